using Orleans.Concurrency;

namespace DePIN.Abstractions.Jobs;

/// <summary>A checkpoint as an agent sends it and a resuming agent gets it back: the blob, its hash and its step.</summary>
/// <param name="Step">The step the work had reached.</param>
/// <param name="ContentHash">Lower-case hex SHA-256 of <paramref name="Blob"/>.</param>
/// <param name="Blob">The opaque state, at most <see cref="WorkRules.MaxCheckpointBytes"/>.</param>
[GenerateSerializer, Immutable, Alias("DePIN.WorkCheckpoint")]
public sealed record WorkCheckpoint([property: Id(0)] long Step, [property: Id(1)] string ContentHash, [property: Id(2)] byte[] Blob);

/// <summary>One replica slot a node is asked to run, for one attempt of a job.</summary>
/// <param name="JobKey">The job (<see cref="JobKey"/>).</param>
/// <param name="Slot">The slot within the attempt: <paramref name="Shard"/> plus a copy number for redundancy.</param>
/// <param name="Shard">Which part of the work: copies of the same shard must return the same result.</param>
/// <param name="CheckpointEverySteps">Checkpoint at every multiple of this step; 0 for never. Multiples, not times, so
/// that copies of a shard checkpoint at the same steps and their checkpoints can be compared.</param>
/// <param name="Resume">Where to start from; null to start afresh.</param>
/// <param name="Stop">The platform wants the slot back (preemption, draining): checkpoint, report Stopped, stop.</param>
[GenerateSerializer, Immutable, Alias("DePIN.WorkItem")]
public sealed record WorkItem(
    [property: Id(0)] string JobKey,
    [property: Id(1)] int Slot,
    [property: Id(2)] int Shard,
    [property: Id(3)] int Attempt,
    [property: Id(4)] JobKind Kind,
    [property: Id(5)] BatchWork? Batch,
    [property: Id(6)] long CheckpointEverySteps,
    [property: Id(7)] WorkCheckpoint? Resume,
    [property: Id(8)] bool Stop,
    [property: Id(9)] DePIN.Abstractions.Inference.InferenceWork? Inference = null);

/// <summary>Everything a node should be running now, at a version that changes with every change.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.WorkSet")]
public sealed record WorkSet([property: Id(0)] long Version, [property: Id(1)] WorkItem[] Items);

/// <summary>An agent's long-poll for work, signed with its node's key.</summary>
/// <param name="Version">The version of the work set the agent has; the call returns as soon as the set differs.</param>
/// <param name="WaitSeconds">How long to wait for a change, at most <see cref="WorkRules.MaxPollSeconds"/>.</param>
public sealed record WorkPoll(string NodeId, long Version, double WaitSeconds, DateTimeOffset Timestamp);

/// <summary>What an agent reports about a slot.</summary>
[GenerateSerializer, Alias("DePIN.WorkReportKind")]
public enum WorkReportKind
{
    /// <summary>The slot began (or resumed) running.</summary>
    Started,

    /// <summary>It reached a step.</summary>
    Progress,

    /// <summary>It took a checkpoint (carried in the report).</summary>
    Checkpoint,

    /// <summary>It finished, with its result's hash.</summary>
    Completed,

    /// <summary>It stopped as asked, after a checkpoint.</summary>
    Stopped,

    /// <summary>It could not run or crashed (the reason is in the report).</summary>
    Failed,
}

/// <summary>An agent's report on one slot, signed with its node's key.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.WorkReport")]
public sealed record WorkReport(
    [property: Id(0)] string NodeId,
    [property: Id(1)] string JobKey,
    [property: Id(2)] int Slot,
    [property: Id(3)] int Attempt,
    [property: Id(4)] WorkReportKind Kind,
    [property: Id(5)] long Step,
    [property: Id(6)] WorkCheckpoint? Checkpoint,
    [property: Id(7)] string? ResultHash,
    [property: Id(8)] string? Error,
    [property: Id(9)] DateTimeOffset Timestamp);

/// <summary>What the platform made of a report.</summary>
[GenerateSerializer, Alias("DePIN.ReportOutcome")]
public enum ReportOutcome
{
    /// <summary>Taken (or already taken: reports are idempotent).</summary>
    Accepted,

    /// <summary>The slot is no longer this node's (another attempt, or the job ended): stop working on it.</summary>
    Superseded,

    /// <summary>No such job.</summary>
    UnknownJob,
}

/// <summary>Limits of the work protocol.</summary>
public static class WorkRules
{
    public const int MaxCheckpointBytes = 64 * 1024;
    public const double MaxPollSeconds = 20;

    /// <summary>Whether a checkpoint's blob fits and its hash is the blob's.</summary>
    public static bool IsCheckpoint(WorkCheckpoint checkpoint) =>
        checkpoint.Step >= 0 && checkpoint.Blob is { Length: <= MaxCheckpointBytes } blob &&
        checkpoint.ContentHash == Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(blob));

    /// <summary>Problems with a report's shape, by JSON path; empty when it is well formed.</summary>
    public static Dictionary<string, string[]> Check(WorkReport report)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!Enum.IsDefined(report.Kind))
        {
            errors["kind"] = ["must be started, progress, checkpoint, completed, stopped or failed"];
        }

        if (report.JobKey is null || report.JobKey.IndexOf('/', StringComparison.Ordinal) <= 0)
        {
            errors["jobKey"] = ["must be the job key of an assignment"];
        }

        if (report.Slot < 0 || report.Attempt < 1 || report.Step < 0)
        {
            errors["slot"] = ["slot and step must not be negative, attempt must be at least 1"];
        }

        if (report.Kind == WorkReportKind.Checkpoint && report.Checkpoint is null)
        {
            errors["checkpoint"] = ["is required for a checkpoint report"];
        }

        if (report.Checkpoint is { } checkpoint && !IsCheckpoint(checkpoint))
        {
            errors["checkpoint"] = [$"must carry a blob of at most {MaxCheckpointBytes} bytes whose lower-case hex SHA-256 is contentHash"];
        }

        if (report.Kind == WorkReportKind.Completed && !IsHash(report.ResultHash))
        {
            errors["resultHash"] = ["must be a lower-case hex SHA-256 for a completed report"];
        }

        if (report.Error is { Length: > 1024 })
        {
            errors["error"] = ["must be at most 1024 characters"];
        }

        return errors;
    }

    /// <summary>Whether a string is a lower-case hex SHA-256.</summary>
    public static bool IsHash(string? value) =>
        value is { Length: 64 } && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}

/// <summary>
/// A node's inbox of work, keyed by node id: the slots it should run, which its agent long-polls for. Job grains
/// write it; it never decides anything itself.
/// </summary>
[Alias("DePIN.INodeWorkGrain")]
public interface INodeWorkGrain : IGrainWithStringKey
{
    /// <summary>Adds a slot (or leaves it as is when already there); completes once durable.</summary>
    [Alias("Assign")]
    Task Assign(WorkItem item);

    /// <summary>Asks the agent to checkpoint and give back every slot of the job's attempt.</summary>
    [Alias("Stop")]
    Task Stop(string jobKey, int attempt);

    /// <summary>Removes the job's slots of this attempt and earlier.</summary>
    [Alias("Withdraw")]
    Task Withdraw(string jobKey, int attempt);

    /// <summary>The work set, as soon as its version differs from <paramref name="version"/>, or after the wait.</summary>
    [Alias("Poll"), AlwaysInterleave]
    Task<WorkSet> Poll(long version, TimeSpan wait);
}
