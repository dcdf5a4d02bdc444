namespace DePIN.Abstractions.Telemetry;

/// <summary>
/// The body of <c>POST /v1/nodes/{id}/telemetry</c>, signed as sent (header <c>DePIN-Signature</c>) by the node's
/// key; once verified, it goes to the node's grain, which journals it before the request is answered.
/// </summary>
/// <param name="Sequence">Strictly increasing per node; a batch not above the last accepted one is dropped.</param>
/// <param name="Timestamp">When the agent signed the batch.</param>
/// <param name="Samples">One or more samples, oldest first.</param>
/// <param name="Faults">Fault events the agent saw since its previous batch (GPU Xid and ECC errors, disk errors,
/// process crashes, kernel errors); absent or empty when there were none.</param>
[GenerateSerializer, Immutable, Alias("DePIN.TelemetryBatch")]
public sealed record TelemetryBatch(
    [property: Id(0)] string NodeId,
    [property: Id(1)] long Sequence,
    [property: Id(2)] DateTimeOffset Timestamp,
    [property: Id(3)] TelemetrySample[] Samples,
    [property: Id(4)] FaultReport[]? Faults = null);

/// <summary>One fault event an agent saw on its host.</summary>
/// <param name="Kind">One of <see cref="FaultKinds.All"/>.</param>
/// <param name="Detail">What the host said, e.g. the kernel log line; at most 256 characters.</param>
[GenerateSerializer, Immutable, Alias("DePIN.FaultReport")]
public sealed record FaultReport(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Detail);

/// <summary>The fault kinds an agent reports, as they appear in <see cref="FaultReport.Kind"/>.</summary>
public static class FaultKinds
{
    public const string GpuXid = "gpu_xid";
    public const string GpuEcc = "gpu_ecc";
    public const string Disk = "disk";
    public const string Crash = "crash";
    public const string Kernel = "kernel";

    public static readonly string[] All = [GpuXid, GpuEcc, Disk, Crash, Kernel];
}

/// <summary>One reading of the host. Rates are averages since the previous sample.</summary>
/// <param name="CpuUtilization">0 to 1 over all cores.</param>
/// <param name="PacketLoss">0 to 1: the share of the host's TCP segments retransmitted since the previous sample;
/// absent when unknown.</param>
/// <param name="LatencyMs">Round trip to the platform, as the agent last measured it; absent when unknown.</param>
[GenerateSerializer, Immutable, Alias("DePIN.TelemetrySample")]
public sealed record TelemetrySample(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] double CpuUtilization,
    [property: Id(2)] long MemoryUsedBytes,
    [property: Id(3)] long MemoryTotalBytes,
    [property: Id(4)] double NetRxBytesPerSecond,
    [property: Id(5)] double NetTxBytesPerSecond,
    [property: Id(6)] double DiskReadBytesPerSecond,
    [property: Id(7)] double DiskWriteBytesPerSecond,
    [property: Id(8)] long DiskUsedBytes,
    [property: Id(9)] long DiskTotalBytes,
    [property: Id(10)] GpuSample[] Gpus,
    [property: Id(11)] double? PacketLoss = null,
    [property: Id(12)] double? LatencyMs = null);

/// <summary>One GPU's reading.</summary>
/// <param name="Utilization">0 to 1.</param>
[GenerateSerializer, Immutable, Alias("DePIN.GpuSample")]
public sealed record GpuSample(
    [property: Id(0)] int Index,
    [property: Id(1)] double Utilization,
    [property: Id(2)] long MemoryUsedBytes,
    [property: Id(3)] double TemperatureC,
    [property: Id(4)] double PowerWatts);

/// <summary>A node's recent load: moving averages over about a minute, and the latest sample's time.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.TelemetrySummary")]
public sealed record TelemetrySummary(
    [property: Id(0)] long Samples,
    [property: Id(1)] DateTimeOffset? LastSampleAt,
    [property: Id(2)] double CpuUtilization,
    [property: Id(3)] double MemoryUtilization,
    [property: Id(4)] double NetRxBytesPerSecond,
    [property: Id(5)] double NetTxBytesPerSecond,
    [property: Id(6)] double DiskReadBytesPerSecond,
    [property: Id(7)] double DiskWriteBytesPerSecond,
    [property: Id(8)] double DiskUtilization,
    [property: Id(9)] int GpuCount,
    [property: Id(10)] double GpuUtilization,
    [property: Id(11)] double GpuMaxTemperatureC)
{
    public static TelemetrySummary Empty { get; } = new(0, null, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

/// <summary>What a node grain did with a batch.</summary>
public enum TelemetryVerdict
{
    /// <summary>Journaled and applied: it will survive any crash.</summary>
    Accepted,

    /// <summary>Its sequence number is not above the last accepted one: already taken (a retry) or replayed.</summary>
    Replayed,

    /// <summary>Signed too long ago: dropped.</summary>
    Stale,

    /// <summary>The node never registered.</summary>
    UnknownNode,

    /// <summary>The journal is behind or its database unreachable: nothing was taken; retry shortly.</summary>
    Overloaded,
}

/// <summary>Batches a node grain took and dropped.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.TelemetryCounters")]
public sealed record TelemetryCounters(
    [property: Id(0)] long Accepted,
    [property: Id(1)] long Replayed,
    [property: Id(2)] long Stale)
{
    public static TelemetryCounters Zero { get; } = new(0, 0, 0);
}
