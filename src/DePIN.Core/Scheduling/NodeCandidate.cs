namespace DePIN.Core.Scheduling;

/// <summary>
/// A scheduler's view of one node that can take work: its compact directory summary plus what is allocated on it
/// and what its history says about its availability. Policies read it; whoever owns it keeps it current.
/// </summary>
public sealed class NodeCandidate
{
    public required string NodeId { get; init; }

    public required string Region { get; init; }

    public double Latitude { get; init; }

    public double Longitude { get; init; }

    public required Resources Capacity { get; init; }

    /// <summary>Resources held by replicas placed on the node.</summary>
    public Resources Allocated { get; set; }

    /// <summary>Video memory of the node's smallest GPU; 0 without GPUs.</summary>
    public long GpuVramBytes { get; init; }

    public IReadOnlySet<string> Labels { get; init; } = EmptyLabels;

    /// <summary>Measured utilisation, 0 to 1 (from telemetry).</summary>
    public double Utilization { get; set; }

    /// <summary>Reputation, 0 (never agrees with its peers) to 1.</summary>
    public double Reputation { get; set; } = 0.5;

    /// <summary>Live status says the node has missed heartbeats.</summary>
    public bool Suspect { get; set; }

    public NodeAvailability Availability { get; init; } = new();

    public Resources Free => Capacity - Allocated;

    private static readonly IReadOnlySet<string> EmptyLabels = new HashSet<string>();
}
