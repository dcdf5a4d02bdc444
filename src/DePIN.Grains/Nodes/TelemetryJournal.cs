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

/// <summary>
/// The journal of a silo whose grain state lives in the process (the development silo, grain tests): a crash takes
/// every grain's state with it, and a grain that deactivates writes its state on the way out, so there is nothing a
/// journal could give back. It keeps nothing.
/// </summary>
public sealed class ProcessTelemetryJournal : ITelemetryJournal
{
    private static readonly Task<bool> Taken = Task.FromResult(true);
    private static readonly Task<IReadOnlyList<JournaledBatch>> Nothing = Task.FromResult<IReadOnlyList<JournaledBatch>>([]);

    public Task<bool> Append(TelemetryBatch batch, DateTimeOffset receivedAt) => Taken;

    public Task<IReadOnlyList<JournaledBatch>> After(string nodeId, long sequence) => Nothing;

    public void Trim(string nodeId, long sequence)
    {
    }
}
