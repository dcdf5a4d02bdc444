using DePIN.Abstractions.Nodes;

namespace DePIN.Client;

/// <summary>The DePIN SDK: read nodes and follow their status changes.</summary>
public interface IDePINClient
{
    /// <summary>One node with its capabilities, status and telemetry summary; null when no such node is registered.</summary>
    Task<NodeDetails?> GetNodeAsync(string nodeId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Nodes from the directory, ordered by id, optionally only those with <paramref name="status"/> and in
    /// <paramref name="region"/>. Pages through the directory as the caller enumerates.
    /// </summary>
    IAsyncEnumerable<NodeSummary> ListNodesAsync(
        NodeStatus? status = null, string? region = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Subscribes to node events (registrations and status changes), optionally of one region only. The subscription
    /// is active when the returned task completes; enumerate the result to read events, dispose it to unsubscribe.
    /// </summary>
    Task<NodeEventWatch> WatchNodeEventsAsync(string? region = null, CancellationToken cancellationToken = default);
}
