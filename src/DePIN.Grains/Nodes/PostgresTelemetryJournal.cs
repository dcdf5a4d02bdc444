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

    public Task<bool> Append(TelemetryBatch batch, DateTimeOffset receivedAt)
    {
        var pending = new Pending(batch.NodeId, batch.Sequence, receivedAt, _serializer.SerializeToArray(batch));
        return _operations.Writer.TryWrite(pending) ? pending.Durable.Task : Task.FromResult(false);
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

            if (group.Count > 0)
            {
                await Insert(group);
                group.Clear();
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
            await using var command = _db.CreateCommand("""
                INSERT INTO depin_telemetry_journal (node_id, seq, received_at, batch)
                SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::bytea[])
                ON CONFLICT DO NOTHING
                """);
            command.Parameters.AddWithValue(group.Select(p => p.NodeId).ToArray());
            command.Parameters.AddWithValue(group.Select(p => p.Sequence).ToArray());
            command.Parameters.AddWithValue(group.Select(p => p.ReceivedAt.UtcDateTime).ToArray());
            command.Parameters.AddWithValue(group.Select(p => p.Bytes).ToArray());
            await command.ExecuteNonQueryAsync();
            group.ForEach(p => p.Durable.TrySetResult(true));
        }
        catch (Exception ex)
        {
            LogAppendFailed(ex, group.Count);
            group.ForEach(p => p.Durable.TrySetException(ex));
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

    private sealed record Pending(string NodeId, long Sequence, DateTimeOffset ReceivedAt, byte[] Bytes) : Operation
    {
        public TaskCompletionSource<bool> Durable { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(LogLevel.Warning, "Telemetry journal: {Count} batches could not be written")]
    private partial void LogAppendFailed(Exception ex, int count);

    [LoggerMessage(LogLevel.Warning, "Telemetry journal: trimming {Count} nodes failed")]
    private partial void LogTrimFailed(Exception ex, int count);
}
