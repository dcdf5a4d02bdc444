namespace DePIN.Abstractions;

/// <summary>The stream provider and its namespaces: one place, so producers and consumers cannot drift apart.</summary>
public static class StreamNames
{
    /// <summary>The stream provider every silo and client configures.</summary>
    public const string Provider = "depin";

    /// <summary>Node status transitions, all on one fleet-wide key (<see cref="FleetKey"/>).</summary>
    public const string NodeEvents = "node-events";

    /// <summary>Job status changes, keyed by tenant: one stream per tenant, not per job, keeps stream bookkeeping small.</summary>
    public const string JobEvents = "job-events";

    /// <summary>The key of the fleet-wide <see cref="NodeEvents"/> stream.</summary>
    public const string FleetKey = "fleet";

    /// <summary>Queues of the in-memory stream provider; silos and clients must agree on it.</summary>
    public const int MemoryStreamQueues = 8;
}

/// <summary>Grain storage provider names, the same in production and in tests.</summary>
public static class StorageNames
{
    public const string Nodes = "nodes";
    public const string Directory = "directory";
    public const string Jobs = "jobs";
    public const string Datasets = "datasets";

    /// <summary>The name Orleans streams look up for their subscription registry.</summary>
    public const string PubSub = "PubSubStore";

    /// <summary>Every provider a silo must configure.</summary>
    public static IReadOnlyList<string> All { get; } = [Nodes, Directory, Jobs, Datasets, PubSub];
}
