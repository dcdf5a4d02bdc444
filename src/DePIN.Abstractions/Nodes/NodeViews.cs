using DePIN.Abstractions.Telemetry;

namespace DePIN.Abstractions.Nodes;

/// <summary>The compact entry the node directory keeps per node; it changes with status or capacity only.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.NodeSummary")]
public sealed record NodeSummary(
    [property: Id(0)] string NodeId,
    [property: Id(1)] NodeStatus Status,
    [property: Id(2)] string Region,
    [property: Id(3)] int CpuCores,
    [property: Id(4)] long MemoryBytes,
    [property: Id(5)] int GpuCount,
    [property: Id(6)] long GpuVramBytes,
    [property: Id(7)] double Latitude,
    [property: Id(8)] double Longitude,
    [property: Id(9)] string AgentVersion,
    [property: Id(10)] DateTimeOffset StatusChangedAt,
    [property: Id(11)] double Reputation = NodeSummary.NewReputation)
{
    /// <summary>The reputation of a node no result of which has been checked yet.</summary>
    public const double NewReputation = 0.5;
}

/// <summary>Everything the platform knows about one node.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.NodeDetails")]
public sealed record NodeDetails(
    [property: Id(0)] string NodeId,
    [property: Id(1)] byte[] PublicKey,
    [property: Id(2)] NodeStatus Status,
    [property: Id(3)] NodeCapabilities Capabilities,
    [property: Id(4)] DateTimeOffset RegisteredAt,
    [property: Id(5)] DateTimeOffset UpdatedAt,
    [property: Id(6)] DateTimeOffset StatusChangedAt,
    [property: Id(7)] DateTimeOffset? LastHeardAt,
    [property: Id(8)] long LastSequence,
    [property: Id(9)] TelemetrySummary Telemetry,
    [property: Id(10)] TelemetryCounters Counters,
    [property: Id(11)] NodeReputation Reputation,
    [property: Id(12)] NodeMaintenance? Maintenance = null);

/// <summary>
/// How an operator holds a node's draining: <c>Auto</c>, its failure risk drains it and lets it back; <c>Drain</c>,
/// drained whatever the risk; <c>Keep</c>, never drained for risk. A held mode lasts until an operator changes it.
/// </summary>
[GenerateSerializer, Alias("DePIN.MaintenanceMode")]
public enum MaintenanceMode { Auto, Drain, Keep }

/// <summary>A node's predicted failure risk and what is done about it.</summary>
/// <param name="Risk">0 to 1: the chance it fails within the horizon, as last assessed.</param>
/// <param name="Source">"rule" (the transparent fallback) or "model" (learnt from the fleet's history).</param>
/// <param name="Reason">The evidence that weighed most, or what the model learnt from.</param>
/// <param name="Anomalies">Detector alarms on the node's metrics since its grain activated.</param>
[GenerateSerializer, Immutable, Alias("DePIN.NodeMaintenance")]
public sealed record NodeMaintenance(
    [property: Id(0)] MaintenanceMode Mode, [property: Id(1)] double Risk, [property: Id(2)] string Source,
    [property: Id(3)] string Reason, [property: Id(4)] DateTimeOffset? AssessedAt, [property: Id(5)] long Anomalies);

/// <summary>
/// A node's one reputation and the evidence it is drawn from in every role: checked results (agreed with the majority
/// or not), leases (delivered or abandoned), dataset records (how many, and their quality), inference requests
/// (answered with a receipt or not).
/// </summary>
/// <param name="Score">0 to 1; see <c>DePIN.Core.Work.Reputation</c>.</param>
[GenerateSerializer, Immutable, Alias("DePIN.NodeReputation")]
public sealed record NodeReputation(
    [property: Id(0)] long Agreed, [property: Id(1)] long Disagreed, [property: Id(2)] double Score,
    [property: Id(3)] long Delivered = 0, [property: Id(4)] long Abandoned = 0, [property: Id(5)] long Records = 0,
    [property: Id(6)] double QualitySum = 0, [property: Id(7)] long Served = 0, [property: Id(8)] long Unanswered = 0);

/// <summary>A node registered (<paramref name="Previous"/> null) or its status changed.</summary>
/// <param name="Reason">Why, in words: "telemetry resumed", "silent for 15 s", "registered".</param>
[GenerateSerializer, Immutable, Alias("DePIN.NodeEvent")]
public sealed record NodeEvent(
    [property: Id(0)] string NodeId,
    [property: Id(1)] string Region,
    [property: Id(2)] NodeStatus? Previous,
    [property: Id(3)] NodeStatus Current,
    [property: Id(4)] DateTimeOffset At,
    [property: Id(5)] string Reason)
{
    /// <summary>A marker for <see cref="Streams.AttachedSubscription"/>: no node, the id in the reason.</summary>
    public static NodeEvent Marker(string id) => new("", "", null, NodeStatus.Registered, DateTimeOffset.UnixEpoch, id);

    /// <summary>The marker id of a marker event; null for a real one.</summary>
    public static string? MarkerId(NodeEvent e) => e.NodeId.Length == 0 ? e.Reason : null;
}

/// <summary>A directory query: every filter is optional; results are ordered by node id.</summary>
/// <param name="After">Return only nodes whose id sorts after this one (paging).</param>
/// <param name="Limit">At most this many.</param>
[GenerateSerializer, Immutable, Alias("DePIN.NodeQuery")]
public sealed record NodeQuery(
    [property: Id(0)] NodeStatus? Status = null,
    [property: Id(1)] string? Region = null,
    [property: Id(2)] string? After = null,
    [property: Id(3)] int Limit = NodeQuery.DefaultLimit)
{
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 10_000;
}

/// <summary>The body of <c>PUT /v1/nodes/{id}/maintenance</c>: <c>{"mode":"auto"|"drain"|"keep"}</c>.</summary>
public sealed record MaintenanceRequest(MaintenanceMode Mode);
