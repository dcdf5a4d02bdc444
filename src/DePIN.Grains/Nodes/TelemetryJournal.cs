using DePIN.Abstractions.Telemetry;

namespace DePIN.Grains.Nodes;

/// <summary>A journaled batch and the platform time it arrived.</summary>
public readonly record struct JournaledBatch(TelemetryBatch Batch, DateTimeOffset ReceivedAt);

/// <summary>What became of an append.</summary>
public enum Journaled
{
    /// <summary>The batch is durable (written now, or before by an append whose answer was lost).</summary>
    Durable,

    /// <summary>The journal is too far behind to take more, or its database did not answer: nothing was written.</summary>
    Unavailable,

    /// <summary>
    /// The node's log has a batch the caller has not applied: another activation of its grain journaled past the
    /// caller's last batch (two activations live at once while the cluster's membership changes). Nothing was written;
    /// the caller must read the state and the journal again before it takes telemetry.
    /// </summary>
    Behind,
}

/// <summary>
/// The write-ahead log of accepted telemetry. A node grain checkpoints its summary every few seconds, not per batch;
/// a batch is journaled before its grain applies it and answers, and a fresh activation replays what lies past its
/// checkpoint, so an acknowledged batch survives any crash and is applied exactly once. Trimming after a checkpoint
/// keeps the journal to the batches of the last checkpoint interval.
/// </summary>
public interface ITelemetryJournal
{
    /// <summary>
    /// Journals <paramref name="batch"/> as the node's next batch after <paramref name="after"/>, the sequence of the
    /// batch the caller applied last. The node's log only grows from its newest batch, so two activations of one grain
    /// cannot both journal after the same batch and each skip the other's. A batch already journaled (same node and
    /// sequence) is left as it was and is durable.
    /// </summary>
    Task<Journaled> Append(TelemetryBatch batch, long after, DateTimeOffset receivedAt);

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
    private static readonly Task<Journaled> Taken = Task.FromResult(Journaled.Durable);
    private static readonly Task<IReadOnlyList<JournaledBatch>> Nothing = Task.FromResult<IReadOnlyList<JournaledBatch>>([]);

    public Task<Journaled> Append(TelemetryBatch batch, long after, DateTimeOffset receivedAt) => Taken;

    public Task<IReadOnlyList<JournaledBatch>> After(string nodeId, long sequence) => Nothing;

    public void Trim(string nodeId, long sequence)
    {
    }
}
