using System.Threading.Channels;
using DePIN.Abstractions.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Serialization;

namespace DePIN.Grains.Nodes;

/// <summary>
/// The telemetry journal in PostgreSQL (<c>depin_telemetry_journal</c>, schema 0006), written by group commit: one
/// writer per silo takes every append waiting and inserts them in one statement, so thousands of batches a second
/// cost a few hundred transactions. Batches are stored in Orleans' binary format. Trims ride along with the appends.
/// Each node's newest batch is kept in <c>depin_telemetry_heads</c> (schema 0007) and advanced in the same statement,
/// only from the batch the appender applied last: a second activation of a node's grain is refused, not forked.
/// </summary>
public sealed partial class PostgresTelemetryJournal : ITelemetryJournal, IAsyncDisposable
{
    private const int MaxGroup = 2_000;
    private readonly NpgsqlDataSource _db;
    private readonly Serializer _serializer;
    private readonly ILogger<PostgresTelemetryJournal> _logger;
    private readonly Channel<Operation> _operations;
    private readonly Task _writer;

    public PostgresTelemetryJournal(NpgsqlDataSource db, Serializer serializer, IOptions<NodeOptions> options, ILogger<PostgresTelemetryJournal> logger)
    {
        (_db, _serializer, _logger) = (db, serializer, logger);
        _operations = Channel.CreateBounded<Operation>(new BoundedChannelOptions(options.Value.JournalBacklog)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _writer = Task.Run(Write);
    }

    public Task<Journaled> Append(TelemetryBatch batch, long after, DateTimeOffset receivedAt)
    {
        var pending = new Pending(batch.NodeId, batch.Sequence, after, receivedAt, _serializer.SerializeToArray(batch));
        return _operations.Writer.TryWrite(pending) ? pending.Outcome.Task : Task.FromResult(Journaled.Unavailable);
    }

    public async Task<IReadOnlyList<JournaledBatch>> After(string nodeId, long sequence)
    {
        await using var command = _db.CreateCommand(
            "SELECT batch, received_at FROM depin_telemetry_journal WHERE node_id = $1 AND seq > $2 ORDER BY seq");
        command.Parameters.AddWithValue(nodeId);
        command.Parameters.AddWithValue(sequence);
        await using var reader = await command.ExecuteReaderAsync();
        var found = new List<JournaledBatch>();
        while (await reader.ReadAsync())
        {
            var batch = _serializer.Deserialize<TelemetryBatch>(reader.GetFieldValue<byte[]>(0))
                ?? throw new InvalidDataException($"Node {nodeId}: a journaled batch is empty.");
            found.Add(new JournaledBatch(batch, reader.GetFieldValue<DateTimeOffset>(1)));
        }

        return found;
    }

    // When the journal is full a trim is dropped too; the next checkpoint's trim covers it.
    public void Trim(string nodeId, long sequence) => _operations.Writer.TryWrite(new Trimmed(nodeId, sequence));

    public async ValueTask DisposeAsync()
    {
        _operations.Writer.TryComplete();
        await _writer;
    }

    private async Task Write()
    {
        var group = new List<Pending>(MaxGroup);
        var trims = new Dictionary<string, long>(StringComparer.Ordinal);
        var reader = _operations.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (group.Count < MaxGroup && trims.Count < MaxGroup && reader.TryRead(out var operation))
            {
                if (operation is Pending pending)
                {
                    group.Add(pending);
                }
                else if (operation is Trimmed trim)
                {
                    trims[trim.NodeId] = Math.Max(trim.Sequence, trims.GetValueOrDefault(trim.NodeId));
                }
            }

            // One statement advances a node's head once: a node twice in the group (rare: two activations on one
            // silo cannot both be waiting) goes in a statement of its own.
            while (group.Count > 0)
            {
                var once = group.DistinctBy(p => p.NodeId, StringComparer.Ordinal).ToList();
                await Insert(once);
                var done = new HashSet<Pending>(once, ReferenceEqualityComparer.Instance);
                group.RemoveAll(done.Contains);
            }

            if (trims.Count > 0)
            {
                await Delete(trims);
                trims.Clear();
            }
        }
    }

    private async Task Insert(List<Pending> group)
    {
        try
        {
            // A head moves from the appender's last batch to this one, or stays on this one (a retry of a batch whose
            // answer was lost). Heads are locked in node order, so two silos' statements cannot deadlock.
            await using var command = _db.CreateCommand("""
                WITH input AS (
                    SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::timestamptz[], $5::bytea[])
                        AS t(node_id, seq, after, received_at, batch)),
                advanced AS (
                    INSERT INTO depin_telemetry_heads AS h (node_id, seq, after)
                    SELECT node_id, seq, after FROM input ORDER BY node_id
                    ON CONFLICT (node_id) DO UPDATE SET seq = EXCLUDED.seq, after = EXCLUDED.after
                        WHERE h.seq = EXCLUDED.after OR h.seq = EXCLUDED.seq
                    RETURNING h.node_id),
                written AS (
                    INSERT INTO depin_telemetry_journal (node_id, seq, received_at, batch)
                    SELECT i.node_id, i.seq, i.received_at, i.batch FROM input i JOIN advanced a USING (node_id)
                    ON CONFLICT DO NOTHING)
                SELECT node_id FROM advanced
                """);
            command.Parameters.AddWithValue(group.Select(p => p.NodeId).ToArray());
            command.Parameters.AddWithValue(group.Select(p => p.Sequence).ToArray());
            command.Parameters.AddWithValue(group.Select(p => p.After).ToArray());
            command.Parameters.AddWithValue(group.Select(p => p.ReceivedAt.UtcDateTime).ToArray());
            command.Parameters.AddWithValue(group.Select(p => p.Bytes).ToArray());
            var advanced = new HashSet<string>(StringComparer.Ordinal);
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    advanced.Add(reader.GetString(0));
                }
            }

            foreach (var pending in group)
            {
                var behind = !advanced.Contains(pending.NodeId);
                if (behind)
                {
                    LogBehind(pending.NodeId, pending.Sequence, pending.After);
                }

                pending.Outcome.TrySetResult(behind ? Journaled.Behind : Journaled.Durable);
            }
        }
        catch (Exception ex)
        {
            LogAppendFailed(ex, group.Count);
            group.ForEach(p => p.Outcome.TrySetException(ex));
        }
    }

    private async Task Delete(Dictionary<string, long> latest)
    {
        try
        {
            await using var command = _db.CreateCommand("""
                DELETE FROM depin_telemetry_journal j
                USING unnest($1::text[], $2::bigint[]) AS t(node_id, seq)
                WHERE j.node_id = t.node_id AND j.seq <= t.seq
                """);
            command.Parameters.AddWithValue(latest.Keys.ToArray());
            command.Parameters.AddWithValue(latest.Values.ToArray());
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception ex)
        {
            // The rows stay: a fresh activation skips what its checkpoint holds, and the next trim takes them.
            LogTrimFailed(ex, latest.Count);
        }
    }

    private abstract record Operation;

    private sealed record Trimmed(string NodeId, long Sequence) : Operation;

    private sealed record Pending(string NodeId, long Sequence, long After, DateTimeOffset ReceivedAt, byte[] Bytes) : Operation
    {
        public TaskCompletionSource<Journaled> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(LogLevel.Warning, "Telemetry journal: {Count} batches could not be written")]
    private partial void LogAppendFailed(Exception ex, int count);

    [LoggerMessage(LogLevel.Warning, "Telemetry journal: node {NodeId}'s batch {Sequence} refused: the log is past {After}, the batch the appender applied last (another activation of its grain journaled since)")]
    private partial void LogBehind(string nodeId, long sequence, long after);

    [LoggerMessage(LogLevel.Warning, "Telemetry journal: trimming {Count} nodes failed")]
    private partial void LogTrimFailed(Exception ex, int count);
}
