using System.Buffers.Binary;
using DePIN.Core.Training;
using Orleans.Concurrency;

namespace DePIN.Abstractions.Training;

/// <summary>
/// A Training job's work: DiLoCo rounds over a dataset snapshot. Each replica is a worker on one shard; every round it
/// takes <paramref name="InnerSteps"/> Adam steps from the global parameters and returns its delta, and the
/// coordinator averages the deltas that came before the round's deadline into a Nesterov outer step.
/// </summary>
/// <param name="Dataset">The dataset.</param>
/// <param name="SnapshotSize">The snapshot trained on (<c>dataset@size</c>): an immutable, signed version.</param>
/// <param name="Inputs">Input features: field names or <c>@latitude</c>, <c>@longitude</c>, <c>@day_of_year_sin</c>,
/// <c>@day_of_year_cos</c>, each optionally with <c>:log1p</c>.</param>
/// <param name="Label">The text field to predict.</param>
/// <param name="Classes">Its values, in the model's output order.</param>
/// <param name="Hidden">Units in the model's hidden layer.</param>
/// <param name="InnerSteps">H: local steps per round.</param>
/// <param name="Rounds">The most rounds to run.</param>
/// <param name="TargetAccuracy">Stop as soon as the held-out accuracy reaches this; 0 to run every round.</param>
/// <param name="RoundDeadlineSeconds">How long a round waits for the workers' deltas once one has arrived.</param>
[GenerateSerializer, Immutable, Alias("DePIN.TrainingWork")]
public sealed record TrainingWork(
    [property: Id(0)] string Dataset,
    [property: Id(1)] long SnapshotSize,
    [property: Id(2)] string[] Inputs,
    [property: Id(3)] string Label,
    [property: Id(4)] string[] Classes,
    [property: Id(5)] int Hidden = TrainingDefaults.Hidden,
    [property: Id(6)] int InnerSteps = TrainingDefaults.InnerSteps,
    [property: Id(7)] int Rounds = 20,
    [property: Id(8)] double TargetAccuracy = 0,
    [property: Id(9)] int BatchSize = TrainingDefaults.BatchSize,
    [property: Id(10)] float InnerLearningRate = TrainingDefaults.InnerLearningRate,
    [property: Id(11)] float OuterLearningRate = TrainingDefaults.OuterLearningRate,
    [property: Id(12)] float OuterMomentum = TrainingDefaults.OuterMomentum,
    [property: Id(13)] double RoundDeadlineSeconds = 30,
    [property: Id(14)] int Seed = 1)
{
    /// <summary>The weather task on the shipped dataset's snapshot of <paramref name="size"/> records.</summary>
    public static TrainingWork Weather(string dataset, long size) => new(
        dataset, size, [.. TabularTask.Weather.Inputs.Select(i => i.Transform == FeatureTransform.Log1p ? i.Source + ":log1p" : i.Source)],
        TabularTask.Weather.Label, [.. TabularTask.Weather.Classes]);

    /// <summary>Value equality, including the lists (a resubmitted spec is the same spec).</summary>
    public bool Equals(TrainingWork? other) =>
        other is not null && Dataset == other.Dataset && SnapshotSize == other.SnapshotSize && Inputs.SequenceEqual(other.Inputs) &&
        Label == other.Label && Classes.SequenceEqual(other.Classes) && Hidden == other.Hidden && InnerSteps == other.InnerSteps &&
        Rounds == other.Rounds && TargetAccuracy.Equals(other.TargetAccuracy) && BatchSize == other.BatchSize &&
        InnerLearningRate.Equals(other.InnerLearningRate) && OuterLearningRate.Equals(other.OuterLearningRate) &&
        OuterMomentum.Equals(other.OuterMomentum) && RoundDeadlineSeconds.Equals(other.RoundDeadlineSeconds) && Seed == other.Seed;

    public override int GetHashCode() => HashCode.Combine(Dataset, SnapshotSize, Label, Hidden, InnerSteps, Rounds, Seed);

    /// <summary>The task as DePIN.Core runs it.</summary>
    public TabularTask Task() => new(
        [.. (Inputs ?? []).Select(i => i.EndsWith(":log1p", StringComparison.Ordinal)
            ? new FeatureInput(i[..^":log1p".Length], FeatureTransform.Log1p)
            : new FeatureInput(i))],
        Label ?? "",
        Classes ?? []);

    /// <summary>The model's shape.</summary>
    public Mlp Model() => new(Inputs.Length, Hidden, Classes.Length);

    /// <summary>Problems with the work's shape, by JSON path under <c>training</c>.</summary>
    public Dictionary<string, string[]> Check()
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(Dataset))
        {
            errors["training.dataset"] = ["is required"];
        }

        if (SnapshotSize < 1)
        {
            errors["training.snapshotSize"] = ["must be the size of a snapshot of the dataset"];
        }

        if (Task().Problems() is { Count: > 0 } problems)
        {
            errors["training.inputs"] = [.. problems];
        }

        if (Hidden is < 1 or > 1024)
        {
            errors["training.hidden"] = ["must be between 1 and 1024"];
        }

        if (InnerSteps is < 1 or > 100_000 || Rounds is < 1 or > 10_000 || BatchSize is < 1 or > 4096)
        {
            errors["training.innerSteps"] = ["innerSteps (1 to 100,000), rounds (1 to 10,000) and batchSize (1 to 4,096) must be in range"];
        }

        if (!(TargetAccuracy is >= 0 and <= 1) || !(InnerLearningRate is > 0 and <= 1) || !(OuterLearningRate is > 0 and <= 2) ||
            !(OuterMomentum is >= 0 and < 1) || !(RoundDeadlineSeconds is >= 0.1 and <= 3600))
        {
            errors["training.learningRates"] = ["targetAccuracy in [0, 1], innerLearningRate in (0, 1], outerLearningRate in (0, 2], outerMomentum in [0, 1), roundDeadlineSeconds in [0.1, 3600]"];
        }

        return errors;
    }
}

/// <summary>What a worker needs for a round: the global parameters, the normaliser and the work.</summary>
/// <param name="Round">The round, from 0.</param>
/// <param name="Done">Training has ended; <paramref name="ModelHash"/> names the model it produced.</param>
/// <param name="Submitted">This shard's delta for the round is in: wait for the next round.</param>
/// <param name="Parameters">The global parameters: base64 of little-endian float32.</param>
[GenerateSerializer, Immutable, Alias("DePIN.TrainingRound")]
public sealed record TrainingRound(
    [property: Id(0)] long Round,
    [property: Id(1)] bool Done,
    [property: Id(2)] bool Submitted,
    [property: Id(3)] int Shards,
    [property: Id(4)] string Parameters,
    [property: Id(5)] float[] Mean,
    [property: Id(6)] float[] Scale,
    [property: Id(7)] TrainingWork Work,
    [property: Id(8)] string? ModelHash);

/// <summary>What the coordinator made of a delta.</summary>
[GenerateSerializer, Alias("DePIN.DeltaOutcome")]
public enum DeltaOutcome
{
    /// <summary>Counted in the round (or already counted).</summary>
    Accepted,

    /// <summary>The round has closed, or training has ended: fetch the next round.</summary>
    Late,

    /// <summary>Not a delta of this model (wrong length, not finite).</summary>
    Invalid,
}

/// <summary>One closed round: how many deltas it averaged and the held-out accuracy after its outer step.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.RoundSummary")]
public sealed record RoundSummary([property: Id(0)] long Round, [property: Id(1)] int Deltas, [property: Id(2)] double Accuracy, [property: Id(3)] DateTimeOffset ClosedAt);

/// <summary>A training job's progress, as its coordinator has it.</summary>
/// <param name="Coordinator">The silo hosting the coordinator now.</param>
[GenerateSerializer, Immutable, Alias("DePIN.TrainingStatus")]
public sealed record TrainingStatus(
    [property: Id(0)] string JobKey,
    [property: Id(1)] long Round,
    [property: Id(2)] bool Done,
    [property: Id(3)] string? ModelHash,
    [property: Id(4)] double Accuracy,
    [property: Id(5)] RoundSummary[] History,
    [property: Id(6)] string Coordinator,
    [property: Id(7)] string? Error);

/// <summary>
/// A model version in the registry, keyed by the SHA-256 of its weights: what produced it (the job, the dataset
/// snapshot with its signed root) and how it scored on the snapshot's held-out split.
/// </summary>
[GenerateSerializer, Immutable, Alias("DePIN.ModelVersion")]
public sealed record ModelVersion(
    [property: Id(0)] string Hash,
    [property: Id(1)] string JobKey,
    [property: Id(2)] string Dataset,
    [property: Id(3)] long SnapshotSize,
    [property: Id(4)] string SnapshotRoot,
    [property: Id(5)] TrainingWork Work,
    [property: Id(6)] float[] Mean,
    [property: Id(7)] float[] Scale,
    [property: Id(8)] ModelMetrics Metrics,
    [property: Id(9)] DateTimeOffset CreatedAt);

/// <summary>Held-out evaluation of a model version.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.ModelMetrics")]
public sealed record ModelMetrics(
    [property: Id(0)] double Accuracy,
    [property: Id(1)] int HeldOut,
    [property: Id(2)] int TrainingExamples,
    [property: Id(3)] long Rounds,
    [property: Id(4)] double MajorityClassAccuracy);

/// <summary>
/// The coordinator of one training job (key: the job key): global parameters, outer momentum and the current round,
/// checkpointed by content hash after every round.
/// </summary>
[Alias("DePIN.ITrainingGrain")]
public interface ITrainingGrain : IGrainWithStringKey
{
    /// <summary>The current round for <paramref name="shard"/>; waits up to <paramref name="wait"/> while it is still <paramref name="knownRound"/> and submitted.</summary>
    [Alias("Round"), AlwaysInterleave]
    Task<TrainingRound> Round(int shard, long knownRound, TimeSpan wait);

    /// <summary>A worker's delta (local − global) for a round.</summary>
    [Alias("Submit")]
    Task<DeltaOutcome> Submit(int shard, long round, float[] delta);

    [Alias("Status")]
    Task<TrainingStatus> Status();
}

/// <summary>A registered model version (key: its weights' hash).</summary>
[Alias("DePIN.IModelGrain")]
public interface IModelGrain : IGrainWithStringKey
{
    /// <summary>Registers the version; the same again changes nothing.</summary>
    [Alias("Register")]
    Task Register(ModelVersion version);

    [Alias("Get")]
    ValueTask<ModelVersion?> Get();
}

/// <summary>Parameter vectors on the wire and on disk: little-endian float32, and their SHA-256.</summary>
public static class Weights
{
    public static byte[] ToBytes(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    /// <summary>The floats of <paramref name="bytes"/>; null when it is not a whole number of finite floats.</summary>
    public static float[]? FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % 4 != 0)
        {
            return null;
        }

        var values = new float[bytes.Length / 4];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
            if (!float.IsFinite(values[i]))
            {
                return null;
            }
        }

        return values;
    }

    public static string Encode(ReadOnlySpan<float> values) => Convert.ToBase64String(ToBytes(values));

    public static float[]? Decode(string? base64)
    {
        if (base64 is null)
        {
            return null;
        }

        var buffer = new byte[base64.Length * 3 / 4];
        return Convert.TryFromBase64String(base64, buffer, out var written) ? FromBytes(buffer.AsSpan(0, written)) : null;
    }

    /// <summary>Lower-case hex SHA-256 of the weights' bytes: a model version's name.</summary>
    public static string Hash(ReadOnlySpan<float> values) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(ToBytes(values)));
}

/// <summary>An agent's signed request for a training slot's round (long-polls while its delta is in and the round is open).</summary>
/// <param name="KnownRound">The round the agent has already submitted for; -1 for none.</param>
public sealed record TrainingPoll(string NodeId, string JobKey, int Slot, int Attempt, long KnownRound, double WaitSeconds, DateTimeOffset Timestamp);

/// <summary>An agent's signed delta (local − global, base64 little-endian float32) for a round of a training slot.</summary>
public sealed record TrainingDeltaReport(string NodeId, string JobKey, int Slot, int Attempt, long Round, string Delta, DateTimeOffset Timestamp);
