namespace DePIN.Abstractions.Jobs;

/// <summary>What a job does.</summary>
[GenerateSerializer, Alias("DePIN.JobKind")]
public enum JobKind
{
    /// <summary>Distributed training: a gang of workers.</summary>
    Training,

    /// <summary>Serving a model.</summary>
    Inference,

    /// <summary>A computation with a checkable result.</summary>
    Batch,
}

/// <summary>Where a job stands: Queued → Placed → Running → Succeeded | Failed | Cancelled.</summary>
[GenerateSerializer, Alias("DePIN.JobStatus")]
public enum JobStatus
{
    /// <summary>Waiting for a placement.</summary>
    Queued,

    /// <summary>Nodes are reserved; the agents have not started yet.</summary>
    Placed,

    /// <summary>Every replica runs.</summary>
    Running,

    /// <summary>Finished with a verified result.</summary>
    Succeeded,

    /// <summary>Gave up: out of retries, or no placement can ever exist.</summary>
    Failed,

    /// <summary>Cancelled by its tenant or an operator.</summary>
    Cancelled,
}

/// <summary>What each replica of a job takes.</summary>
/// <param name="CpuCores">Logical cores, at least 1.</param>
/// <param name="MemoryBytes">Memory in bytes, more than 0.</param>
/// <param name="Gpus">Whole GPUs, 0 or more.</param>
/// <param name="MinGpuVramBytes">Video memory each GPU must have; 0 for any.</param>
[GenerateSerializer, Immutable, Alias("DePIN.ReplicaResources")]
public sealed record ReplicaResources(
    [property: Id(0)] int CpuCores,
    [property: Id(1)] long MemoryBytes,
    [property: Id(2)] int Gpus,
    [property: Id(3)] long MinGpuVramBytes);

/// <summary>Where a job may run. Every list may be empty.</summary>
/// <param name="Regions">Allowed regions; empty for any.</param>
/// <param name="NearLatitude">With <paramref name="NearLongitude"/>: a point the replicas must stay close to.</param>
/// <param name="NearLongitude">See <paramref name="NearLatitude"/>.</param>
/// <param name="MaxDistanceKm">Great-circle limit from the point.</param>
/// <param name="MaxLatencyMs">Round-trip limit from the point over fibre.</param>
/// <param name="Labels">Labels every node must carry (e.g. <c>gpu:nvidia-a100</c>).</param>
[GenerateSerializer, Immutable, Alias("DePIN.JobConstraints")]
public sealed record JobConstraints(
    [property: Id(0)] string[] Regions,
    [property: Id(1)] double? NearLatitude,
    [property: Id(2)] double? NearLongitude,
    [property: Id(3)] double? MaxDistanceKm,
    [property: Id(4)] double? MaxLatencyMs,
    [property: Id(5)] string[] Labels)
{
    /// <summary>No constraints.</summary>
    public static JobConstraints None { get; } = new([], null, null, null, null, []);

    /// <summary>Value equality, including the lists.</summary>
    public bool Equals(JobConstraints? other) =>
        other is not null && Regions.SequenceEqual(other.Regions) && Labels.SequenceEqual(other.Labels) &&
        Nullable.Equals(NearLatitude, other.NearLatitude) && Nullable.Equals(NearLongitude, other.NearLongitude) &&
        Nullable.Equals(MaxDistanceKm, other.MaxDistanceKm) && Nullable.Equals(MaxLatencyMs, other.MaxLatencyMs);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Regions.Length, Labels.Length, NearLatitude, NearLongitude);
}

/// <summary>How a result is checked.</summary>
/// <param name="Redundancy">Distinct nodes that compute each result; the majority by result hash wins. 1 trusts one node.</param>
/// <param name="Adaptive">Add a replica when a chosen node's reputation is low (BOINC's adaptive replication).</param>
[GenerateSerializer, Immutable, Alias("DePIN.VerificationPolicy")]
public sealed record VerificationPolicy([property: Id(0)] int Redundancy, [property: Id(1)] bool Adaptive);

/// <summary>A job as its tenant submits it.</summary>
/// <param name="Kind">Training, inference or batch.</param>
/// <param name="Resources">What each replica takes.</param>
/// <param name="Replicas">Gang size: all replicas run at once or none do.</param>
/// <param name="Constraints">Regions, distance and labels.</param>
/// <param name="Priority">Higher runs first and may preempt lower; 0 to 1000.</param>
/// <param name="EstimatedSeconds">How long the job should run; the horizon placement predicts availability over.</param>
/// <param name="CheckpointSeconds">How often replicas checkpoint; 0 for never.</param>
/// <param name="Verification">How results are checked.</param>
/// <param name="MaxPricePerReplicaHour">The most the tenant pays per replica-hour, in platform credits.</param>
/// <param name="Batch">What a Batch job computes; required for Batch jobs, absent for the others.</param>
[GenerateSerializer, Immutable, Alias("DePIN.JobSpec")]
public sealed record JobSpec(
    [property: Id(0)] JobKind Kind,
    [property: Id(1)] ReplicaResources Resources,
    [property: Id(2)] int Replicas,
    [property: Id(3)] JobConstraints Constraints,
    [property: Id(4)] int Priority,
    [property: Id(5)] double EstimatedSeconds,
    [property: Id(6)] double CheckpointSeconds,
    [property: Id(7)] VerificationPolicy Verification,
    [property: Id(8)] decimal MaxPricePerReplicaHour,
    [property: Id(9)] BatchWork? Batch = null,
    [property: Id(10)] DePIN.Abstractions.Training.TrainingWork? Training = null,
    [property: Id(11)] DePIN.Abstractions.Inference.InferenceWork? Inference = null);

/// <summary>
/// A Batch job's work: each replica (shard) runs the deterministic kernel <c>DePIN.Core.Work.BatchKernel</c> over
/// the seed and its shard number for a number of steps, so any node's result can be checked against another's.
/// </summary>
/// <param name="Seed">The kernel's seed.</param>
/// <param name="Steps">Steps each replica takes, 1 or more.</param>
[GenerateSerializer, Immutable, Alias("DePIN.BatchWork")]
public sealed record BatchWork([property: Id(0)] ulong Seed, [property: Id(1)] long Steps);
