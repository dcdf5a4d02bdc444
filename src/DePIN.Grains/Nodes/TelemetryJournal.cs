using DePIN.Abstractions.Telemetry;

namespace DePIN.Grains.Nodes;

/// <summary>A journaled batch and the platform time it arrived.</summary>
public readonly record struct JournaledBatch(TelemetryBatch Batch, DateTimeOffset ReceivedAt);

/// <summary>
/// The write-ahead log of accepted telemetry. A node grain checkpoints its summary every few seconds, not per batch;
/// a batch is journaled before its grain applies it and answers, and a fresh activation replays what lies past its
/// checkpoint, so an acknowledged batch survives any crash and is applied exactly once. Trimming after a checkpoint
/// keeps the journal to the batches of the last checkpoint interval.
/// </summary>
public interface ITelemetryJournal
{
    /// <summary>
    /// Durable when it completes with true; false when the journal is too far behind to take more (nothing was
    /// written). A batch already journaled (same node and sequence) is left as it was.
    /// </summary>
    Task<bool> Append(TelemetryBatch batch, DateTimeOffset receivedAt);

    /// <summary>The node's journaled batches with a sequence number above <paramref name="sequence"/>, oldest first.</summary>
    Task<IReadOnlyList<JournaledBatch>> After(string nodeId, long sequence);

    /// <summary>Forgets the node's batches up to <paramref name="sequence"/>: its checkpoint holds them. Best effort.</summary>
    void Trim(string nodeId, long sequence);
}

/// <summary>The journal of a silo whose grain state lives in the process: it lives, and ends, with it.</summary>
public sealed class ProcessTelemetryJournal : ITelemetryJournal
{
    private static readonly Task<bool> Taken = Task.FromResult(true);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SortedList<long, JournaledBatch>> _nodes = new(StringComparer.Ordinal);

    public Task<bool> Append(TelemetryBatch batch, DateTimeOffset receivedAt)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(batch.NodeId, out var batches))
            {
                _nodes[batch.NodeId] = batches = [];
            }

            batches.TryAdd(batch.Sequence, new JournaledBatch(batch, receivedAt));
        }

        return Taken;
    }

    public Task<IReadOnlyList<JournaledBatch>> After(string nodeId, long sequence)
    {
        lock (_lock)
        {
            IReadOnlyList<JournaledBatch> found = _nodes.TryGetValue(nodeId, out var batches)
                ? [.. batches.Where(b => b.Key > sequence).Select(b => b.Value)]
                : [];
            return Task.FromResult(found);
        }
    }

    public void Trim(string nodeId, long sequence)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(nodeId, out var batches))
            {
                return;
            }

            while (batches.Count > 0 && batches.Keys[0] <= sequence)
            {
                batches.RemoveAt(0);
            }

            if (batches.Count == 0)
            {
                _nodes.Remove(nodeId);
            }
        }
    }
}
