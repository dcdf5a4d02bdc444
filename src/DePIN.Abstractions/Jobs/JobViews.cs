namespace DePIN.Abstractions.Jobs;

/// <summary>One replica slot of a job on one node, for one attempt.</summary>
/// <param name="Rate">The lease: microcredits per replica-hour, the node's region and class rate at placement.</param>
/// <param name="Forecast">The probability the scheduler's predictor gave the node of staying up for the job.</param>
[GenerateSerializer, Immutable, Alias("DePIN.JobAssignment")]
public sealed record JobAssignment(
    [property: Id(0)] int Replica, [property: Id(1)] string NodeId, [property: Id(2)] int Attempt,
    [property: Id(3)] long Rate = 0, [property: Id(4)] double Forecast = 0);

/// <summary>A replica's last checkpoint: the content hash of an opaque blob and the step it was taken at.</summary>
/// <param name="Shard">The replica (shard of the work) it belongs to.</param>
[GenerateSerializer, Immutable, Alias("DePIN.JobCheckpoint")]
public sealed record JobCheckpoint(
    [property: Id(3)] int Shard,
    [property: Id(0)] long Step,
    [property: Id(1)] string ContentHash,
    [property: Id(2)] DateTimeOffset At);

/// <summary>Everything a tenant may know about its job.</summary>
/// <param name="Reason">Why the job is where it is, when that needs saying (waiting, failed, cancelled).</param>
/// <param name="Attempts">Placements so far; 0 while first queued.</param>
/// <param name="Assignments">The current attempt's replica slots; empty unless placed or running.</param>
/// <param name="Progress">0 to 1: the share of the work's steps done, over all replicas.</param>
/// <param name="Checkpoints">Each replica's last accepted checkpoint; a new attempt resumes from these.</param>
/// <param name="Failures">Attempts that failed (the work's fault, not a lost node's); past the limit the job fails.</param>
/// <param name="Result">Once succeeded: the verified result's hash (for several replicas, SHA-256 over theirs in order).</param>
[GenerateSerializer, Immutable, Alias("DePIN.JobDetails")]
public sealed record JobDetails(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Tenant,
    [property: Id(2)] JobSpec Spec,
    [property: Id(3)] JobStatus Status,
    [property: Id(4)] string? Reason,
    [property: Id(5)] DateTimeOffset SubmittedAt,
    [property: Id(6)] DateTimeOffset UpdatedAt,
    [property: Id(7)] int Attempts,
    [property: Id(8)] JobAssignment[] Assignments,
    [property: Id(9)] double Progress,
    [property: Id(11)] JobCheckpoint[] Checkpoints,
    [property: Id(12)] int Failures,
    [property: Id(13)] string? Result);

/// <summary>A row of a job listing.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.JobSummary")]
public sealed record JobSummary(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Tenant,
    [property: Id(2)] JobKind Kind,
    [property: Id(3)] JobStatus Status,
    [property: Id(4)] DateTimeOffset SubmittedAt,
    [property: Id(5)] DateTimeOffset UpdatedAt);

/// <summary>A change of a job's status, on stream <c>job-events</c> keyed by tenant.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.JobEvent")]
public sealed record JobEvent(
    [property: Id(0)] string JobId,
    [property: Id(1)] JobStatus Status,
    [property: Id(2)] JobStatus? Previous,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] string? Reason)
{
    /// <summary>A marker for <see cref="Streams.AttachedSubscription"/>: no job, the id in the reason.</summary>
    public static JobEvent Marker(string id) => new("", JobStatus.Queued, null, DateTimeOffset.UnixEpoch, id);

    /// <summary>The marker id of a marker event; null for a real one.</summary>
    public static string? MarkerId(JobEvent e) => e.JobId.Length == 0 ? e.Reason : null;
}

/// <summary>How a submission went.</summary>
[GenerateSerializer, Alias("DePIN.SubmitOutcome")]
public enum SubmitOutcome
{
    /// <summary>A new job.</summary>
    Created,

    /// <summary>The same spec was already submitted under this id: nothing changed.</summary>
    AlreadySubmitted,

    /// <summary>The id is taken by a different spec: nothing changed.</summary>
    Conflict,

    /// <summary>The tenant's balance cannot fund the job's escrow (its price cap × slots × estimated hours): nothing was created.</summary>
    InsufficientFunds,
}

/// <summary>The outcome of a submission, with the job as it now stands (null on conflict).</summary>
/// <param name="Detail">Why it was refused, when it was (<see cref="SubmitOutcome.InsufficientFunds"/>).</param>
[GenerateSerializer, Immutable, Alias("DePIN.SubmitResult")]
public sealed record SubmitResult([property: Id(0)] SubmitOutcome Outcome, [property: Id(1)] JobDetails? Job, [property: Id(2)] string? Detail = null);

/// <summary>A page of a job listing: jobs after <paramref name="After"/> (a job id), in id order.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.JobQuery")]
public sealed record JobQuery(
    [property: Id(0)] JobStatus? Status,
    [property: Id(1)] string? After,
    [property: Id(2)] int Limit)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
}
