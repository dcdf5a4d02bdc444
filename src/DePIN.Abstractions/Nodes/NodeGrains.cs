namespace DePIN.Abstractions.Nodes;

/// <summary>One provider node, keyed by its node id.</summary>
[Alias("DePIN.INodeGrain")]
public interface INodeGrain : IGrainWithStringKey
{
    /// <summary>Registers the node or updates its capabilities. The caller has verified the signature.</summary>
    [Alias("Register")]
    Task<RegistrationResult> Register(NodeRegistration registration);

    /// <summary>The node's raw public key, or null when the node never registered.</summary>
    [Alias("GetPublicKey")]
    ValueTask<byte[]?> GetPublicKey();

    /// <summary>The node, or null when it never registered.</summary>
    [Alias("GetDetails")]
    ValueTask<NodeDetails?> GetDetails();

    /// <summary>
    /// Adds evidence about the node from any of its roles (checked results, leases, dataset records, inference
    /// answers), once: the same <paramref name="id"/> again (a sender retrying after a crash or a lost answer) changes
    /// nothing. The node remembers its last <c>NodeState.EvidenceMemory</c> reports. Moves its one
    /// reputation, which the directory carries to the scheduler; returns the score (0.5 for a node that never
    /// registered).
    /// </summary>
    [Alias("RecordEvidenceOnce")]
    Task<double> RecordEvidence(string id, DePIN.Core.Work.ReputationEvidence evidence);

    /// <summary>
    /// An operator holds the node drained (<see cref="MaintenanceMode.Drain"/>), keeps it in service whatever its risk
    /// (<see cref="MaintenanceMode.Keep"/>) or gives the decision back to its risk (<see cref="MaintenanceMode.Auto"/>).
    /// Null when the node never registered.
    /// </summary>
    [Alias("SetMaintenanceMode")]
    Task<NodeDetails?> SetMaintenanceMode(MaintenanceMode mode);

    /// <summary>
    /// Work on the node failed (its agent reported a replica failed): the moments of its health evidence before it
    /// become failure examples for the failure model, as when the node goes offline.
    /// </summary>
    [Alias("WorkFailed")]
    Task WorkFailed();

    /// <summary>
    /// Takes a telemetry batch whose signature the caller verified. An accepted batch is in the node's telemetry journal
    /// before this returns, so a crash cannot lose it: a fresh activation replays the journal past its checkpoint.
    /// </summary>
    [Alias("Report")]
    Task<DePIN.Abstractions.Telemetry.TelemetryVerdict> Report(DePIN.Abstractions.Telemetry.TelemetryBatch batch);

    /// <summary>Re-evaluates liveness now. Timers call this; so may an operator.</summary>
    [Alias("CheckLiveness")]
    Task CheckLiveness();
}

/// <summary>One shard of a region's node directory; key <c>"{region}/{shard}"</c>.</summary>
[Alias("DePIN.INodeDirectoryGrain")]
public interface INodeDirectoryGrain : IGrainWithStringKey
{
    /// <summary>Adds or replaces a node's entry; completes once the change is durable.</summary>
    [Alias("Upsert")]
    Task Upsert(NodeSummary summary);

    /// <summary>Removes a node's entry (it moved to another region); completes once durable.</summary>
    [Alias("Remove")]
    Task Remove(string nodeId);

    /// <summary>The shard's entries matching the query's status and paging, ordered by node id.</summary>
    [Alias("List")]
    ValueTask<NodeSummary[]> List(NodeQuery query);
}

/// <summary>The regions that have nodes; key 0.</summary>
[Alias("DePIN.IRegionCatalogGrain")]
public interface IRegionCatalogGrain : IGrainWithIntegerKey
{
    [Alias("Add")]
    Task Add(string region);

    [Alias("GetRegions")]
    ValueTask<string[]> GetRegions();
}

/// <summary>Answers directory queries by fanning out over the region shards; key 0, stateless.</summary>
[Alias("DePIN.INodeQueryGrain")]
public interface INodeQueryGrain : IGrainWithIntegerKey
{
    [Alias("List")]
    Task<NodeSummary[]> List(NodeQuery query);
}
