using DePIN.Abstractions;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Training;
using DePIN.Core.Datasets;
using DePIN.Core.Training;
using DePIN.Grains.Datasets;
using Microsoft.Extensions.Logging;
using Orleans.Placement;

namespace DePIN.Grains.Training;

[GenerateSerializer, Alias("DePIN.TrainingState")]
public sealed class TrainingState
{
    [Id(0)] public bool Initialized { get; set; }
    [Id(1)] public long Round { get; set; }
    [Id(2)] public string? ParametersHash { get; set; }
    [Id(3)] public string? VelocityHash { get; set; }
    [Id(4)] public float[] Mean { get; set; } = [];
    [Id(5)] public float[] Scale { get; set; } = [];
    [Id(6)] public List<RoundSummary> History { get; set; } = [];
    [Id(7)] public bool Done { get; set; }
    [Id(8)] public string? ModelHash { get; set; }
    [Id(9)] public double Accuracy { get; set; }
    [Id(10)] public string? Error { get; set; }
    [Id(11)] public int Shards { get; set; }
    [Id(12)] public TrainingWork? Work { get; set; }
    [Id(13)] public string SnapshotRoot { get; set; } = "";
}

/// <summary>
/// DiLoCo's coordinator for one training job (key: the job key). It loads the snapshot's records from PostgreSQL,
/// splits them (one in five held out, by content hash), fits the normaliser on the training part, and runs rounds:
/// each worker fetches the global parameters, returns its delta, and the round closes when every shard has reported
/// or <see cref="TrainingWork.RoundDeadlineSeconds"/> after the first delta, averaging whatever came. Every closed
/// round is checkpointed (parameters and momentum by content hash, then the state that names them) before anyone
/// sees it, so a silo's death costs at most the open round's deltas, which the workers send again. The last round
/// registers the model version: the weights' hash, the snapshot and its signed root, the job and the held-out score.
/// Placed on the silo that first calls it (the one its workers' or its owner's requests come through).
/// </summary>
[PreferLocalPlacement]
public sealed partial class TrainingGrain(
    [PersistentState("training", StorageNames.Jobs)] IPersistentState<TrainingState> state,
    TrainingStore store,
    DatasetLog datasets,
    PlatformClock clock,
    ILogger<TrainingGrain> logger)
    : Grain, ITrainingGrain
{
    private readonly Dictionary<int, float[]> _deltas = [];
    private TaskCompletionSource _roundClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private OuterLoop? _outer;
    private Mlp? _model;
    private List<Example> _heldOut = [];
    private int _trainingExamples;
    // What workers see: only what has been written. Set with no await between its parts, as polls interleave.
    private (long Round, bool Done, string Encoded, string? ModelHash) _published;
    private IGrainTimer? _deadline;
    private Task? _initializing;

    private TrainingState Training => state.State;

    private string JobKey => this.GetPrimaryKeyString();

    private void Publish() =>
        _published = (Training.Round, Training.Done, _outer is null || Training.Done ? "" : Weights.Encode(_outer.Parameters), Training.ModelHash);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Training.Initialized && !Training.Done)
        {
            var parameters = Weights.FromBytes(await store.Get(Training.ParametersHash!, cancellationToken))!;
            var velocity = Weights.FromBytes(await store.Get(Training.VelocityHash!, cancellationToken))!;
            var work = Training.Work!;
            _model = work.Model();
            _outer = new OuterLoop(parameters, velocity, work.OuterLearningRate, work.OuterMomentum);
            var (examples, _) = await Examples(work, new Normaliser(Training.Mean, Training.Scale), cancellationToken);
            Split(examples);
        }

        Publish();
    }

    /// <summary>Long-polls (interleaved with the submits that close the round), so it only reads.</summary>
    public async Task<TrainingRound> Round(int shard, long knownRound, TimeSpan wait)
    {
        await Initialize();
        if (!_published.Done && knownRound == _published.Round && _deltas.ContainsKey(shard) && wait > TimeSpan.Zero)
        {
            using var done = new CancellationTokenSource();
            await Task.WhenAny(_roundClosed.Task, Task.Delay(wait, clock.Time, done.Token));
            await done.CancelAsync();
        }

        var (round, finished, encoded, model) = _published;
        return new TrainingRound(round, finished, _deltas.ContainsKey(shard), Training.Shards, finished ? "" : encoded,
            Training.Mean, Training.Scale, Training.Work!, model);
    }

    public async Task<DeltaOutcome> Submit(int shard, long round, float[] delta)
    {
        await Initialize();
        if (Training.Done || round != Training.Round)
        {
            return DeltaOutcome.Late;
        }

        if (shard < 0 || shard >= Training.Shards || delta.Length != _model!.ParameterCount || !delta.All(float.IsFinite))
        {
            return DeltaOutcome.Invalid;
        }

        if (!_deltas.TryAdd(shard, delta))
        {
            return DeltaOutcome.Accepted; // a retry
        }

        if (_deltas.Count == Training.Shards)
        {
            await CloseRoundOrStartOver();
        }
        else if (_deltas.Count == 1)
        {
            _deadline ??= this.RegisterGrainTimer(Deadline, new GrainTimerCreationOptions
            {
                DueTime = Timeout.InfiniteTimeSpan,
                Period = Timeout.InfiniteTimeSpan,
            });
            _deadline.Change(TimeSpan.FromSeconds(Training.Work!.RoundDeadlineSeconds), Timeout.InfiniteTimeSpan);
        }

        return DeltaOutcome.Accepted;
    }

    public async Task<TrainingStatus> Status()
    {
        await Initialize();
        return new TrainingStatus(JobKey, Training.Round, Training.Done, Training.ModelHash, Training.Accuracy, [.. Training.History],
            RuntimeIdentity, Training.Error);
    }

    private async Task Deadline(CancellationToken cancellationToken)
    {
        if (!Training.Done && _deltas.Count > 0)
        {
            LogDeadline(JobKey, Training.Round, _deltas.Count, Training.Shards);
            await CloseRoundOrStartOver();
        }
    }

    /// <summary>
    /// Closes the round; when that fails (a grain or the store unreachable while a silo dies), the activation goes: the
    /// next one starts from the last round written, and the workers, which no longer see their deltas, send them again.
    /// Kept, the round's deltas would all be in and nothing would ever close it.
    /// </summary>
    private async Task CloseRoundOrStartOver()
    {
        try
        {
            await CloseRound();
        }
        catch (Exception ex)
        {
            LogCloseFailed(ex, JobKey, Training.Round);
            DeactivateOnIdle();
            throw;
        }
    }

    private async Task CloseRound()
    {
        var work = Training.Work!;
        // The step is taken on a copy, kept once the state that names its checkpoint is written.
        var outer = new OuterLoop([.. _outer!.Parameters], [.. _outer.Velocity], work.OuterLearningRate, work.OuterMomentum);
        outer.Apply(_deltas.Values);
        var accuracy = _model!.Accuracy(outer.Parameters, _heldOut);
        var round = Training.Round + 1;
        var done = round >= work.Rounds || work.TargetAccuracy > 0 && accuracy >= work.TargetAccuracy;

        // The checkpoint first, then the state that names it: a crash between the two repeats the round.
        var parametersHash = await store.Put(Weights.ToBytes(outer.Parameters));
        var velocityHash = await store.Put(Weights.ToBytes(outer.Velocity));
        if (done)
        {
            await GrainFactory.GetGrain<IModelGrain>(parametersHash).Register(new ModelVersion(
                parametersHash, JobKey, work.Dataset, work.SnapshotSize, Training.SnapshotRoot, work, Training.Mean, Training.Scale,
                new ModelMetrics(accuracy, _heldOut.Count, _trainingExamples, round, Majority(_heldOut)), clock.UtcNow));
        }

        Training.History.Add(new RoundSummary(Training.Round, _deltas.Count, accuracy, clock.UtcNow));
        Training.Round = round;
        Training.ParametersHash = parametersHash;
        Training.VelocityHash = velocityHash;
        Training.Accuracy = accuracy;
        Training.Done = done;
        Training.ModelHash = done ? parametersHash : null;
        await state.WriteStateAsync();

        _outer = outer;
        _deltas.Clear();
        _deadline?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Publish();
        LogRound(JobKey, round, accuracy, done);
        var closed = _roundClosed;
        _roundClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        closed.TrySetResult();
    }

    // Round interleaves with everything (it long-polls): the first calls share one initialisation.
    private async Task Initialize()
    {
        if (Training.Initialized)
        {
            return;
        }

        var once = _initializing ??= InitializeOnce();
        try
        {
            await once;
        }
        catch
        {
            _initializing = null; // the next call tries again
            throw;
        }
    }

    private async Task InitializeOnce()
    {

        var job = await GrainFactory.GetGrain<IJobGrain>(JobKey).Get();
        if (job?.Spec is not { Kind: JobKind.Training, Training: { } work })
        {
            throw new InvalidOperationException($"{JobKey} is not a training job.");
        }

        Training.Work = work;
        Training.Shards = job.Spec.Replicas;
        var snapshot = await GrainFactory.GetGrain<IDatasetGrain>(work.Dataset).GetSnapshot(work.SnapshotSize);
        var (examples, normaliser) = snapshot is null ? ([], new Normaliser([], [])) : await Examples(work, null, CancellationToken.None);
        Split(examples);
        if (snapshot is null || _heldOut.Count == 0 || _trainingExamples < Training.Shards)
        {
            Training.Error = snapshot is null
                ? $"Dataset {work.Dataset} has no snapshot at size {work.SnapshotSize}."
                : $"Snapshot {work.Dataset}@{work.SnapshotSize} has {examples.Count} usable examples: too few to split into {Training.Shards} shards and a held-out part.";
            Training.Done = true;
            Training.Initialized = true;
            await state.WriteStateAsync();
            Publish();
            LogFailed(JobKey, Training.Error);
            return;
        }

        _model = work.Model();
        var parameters = _model.Initialize(work.Seed);
        var velocity = new float[_model.ParameterCount];
        Training.SnapshotRoot = snapshot.Root;
        Training.Mean = normaliser.Mean;
        Training.Scale = normaliser.Scale;
        Training.ParametersHash = await store.Put(Weights.ToBytes(parameters));
        Training.VelocityHash = await store.Put(Weights.ToBytes(velocity));
        Training.Accuracy = _model.Accuracy(parameters, _heldOut);
        Training.Initialized = true;
        await state.WriteStateAsync();
        _outer = new OuterLoop(parameters, velocity, work.OuterLearningRate, work.OuterMomentum);
        Publish();
        LogStarted(JobKey, work.Dataset, work.SnapshotSize, examples.Count, _heldOut.Count, Training.Shards);
    }

    private async Task<(List<Example>, Normaliser)> Examples(TrainingWork work, Normaliser? normaliser, CancellationToken cancellationToken)
    {
        var records = new List<(Contribution, byte[])>();
        await foreach (var stored in datasets.Records(work.Dataset, work.SnapshotSize, cancellationToken))
        {
            if (Contribution.FromCanonical(stored.Canonical) is { } record)
            {
                records.Add((record, stored.ContentHash));
            }
        }

        return work.Task().Examples(records, normaliser);
    }

    /// <summary>Keeps the held-out examples for scoring rounds, and how many are left for training.</summary>
    private void Split(List<Example> examples)
    {
        _heldOut = [.. examples.Where(e => e.IsHeldOut)];
        _trainingExamples = examples.Count - _heldOut.Count;
    }

    private static double Majority(List<Example> examples) =>
        examples.Count == 0 ? 0 : examples.GroupBy(e => e.Label).Max(g => g.Count()) / (double)examples.Count;

    [LoggerMessage(LogLevel.Information, "Training {JobKey}: {Examples} examples of {Dataset}@{Size} ({HeldOut} held out) over {Shards} shards")]
    private partial void LogStarted(string jobKey, string dataset, long size, int examples, int heldOut, int shards);

    [LoggerMessage(LogLevel.Information, "Training {JobKey}: round {Round} closed, held-out accuracy {Accuracy:0.0000}, done: {Done}")]
    private partial void LogRound(string jobKey, long round, double accuracy, bool done);

    [LoggerMessage(LogLevel.Information, "Training {JobKey}: round {Round} closed at its deadline with {Deltas} of {Shards} deltas")]
    private partial void LogDeadline(string jobKey, long round, int deltas, int shards);

    [LoggerMessage(LogLevel.Warning, "Training {JobKey}: closing round {Round} failed; the coordinator starts again from its last written round")]
    private partial void LogCloseFailed(Exception exception, string jobKey, long round);

    [LoggerMessage(LogLevel.Warning, "Training {JobKey} cannot run: {Error}")]
    private partial void LogFailed(string jobKey, string error);
}
