using System.Runtime.CompilerServices;
using DePIN.Abstractions.Economy;
using DePIN.Core.Economy;
using Npgsql;

namespace DePIN.Grains.Economy;

/// <summary>
/// The ledger in PostgreSQL (schema 0005). A batch is one transaction: it takes the ledger's advisory lock, reads the
/// head, the ids it reuses and the balances it touches (one round trip), decides with <see cref="LedgerBook"/>,
/// inserts the postings and their entries (one more) and commits. Writers on every silo therefore append to one
/// chain in one order, and a writer that dies mid-batch leaves nothing behind: the transaction never committed, and
/// the lock goes with its connection.
/// </summary>
public sealed class PostgresLedgerStore(NpgsqlDataSource db) : ILedgerStore
{
    // Any fixed 64-bit number other than the schema migrator's: the lock that orders the ledger's writers.
    private const long WriterLock = 0x4465_5049_4E5F_4C47; // "DePIN_LG"

    public async Task Open(IReadOnlyCollection<string> accounts, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        var kinds = accounts.Select(id => AccountId.KindOf(id) ?? throw new ArgumentException($"'{id}' is not an account id.", nameof(accounts))).ToArray();
        await using var command = db.CreateCommand("""
            INSERT INTO depin_ledger_accounts (id, kind, unit, opened_at)
            SELECT id, kind, $3, $4 FROM unnest($1::text[], $2::text[]) AS a (id, kind)
            ON CONFLICT DO NOTHING
            """);
        command.Parameters.AddWithValue(accounts.ToArray());
        command.Parameters.AddWithValue(kinds.Select(AccountKinds.Name).ToArray());
        command.Parameters.AddWithValue(AccountId.Unit);
        command.Parameters.AddWithValue(LedgerHash.Truncate(at).UtcDateTime);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PostingDecision>> Append(IReadOnlyList<Posting> batch, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var ids = batch.Select(p => p.Id).Where(PostingRules.IsPostingId).Distinct(StringComparer.Ordinal).ToArray();
        var named = batch.SelectMany(p => p.Entries ?? []).Select(e => e.Account).Where(a => a is not null).Distinct(StringComparer.Ordinal).ToArray();

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var head = LedgerHead.Empty;
        var taken = new Dictionary<string, PostedReceipt>(StringComparer.Ordinal);
        var accounts = new Dictionary<string, LedgerAccount>(StringComparer.Ordinal);
        await using (var read = new NpgsqlBatch(connection, transaction))
        {
            read.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({WriterLock})"));
            read.BatchCommands.Add(new NpgsqlBatchCommand("SELECT seq, hash FROM depin_ledger_postings ORDER BY seq DESC LIMIT 1"));
            read.BatchCommands.Add(Command("SELECT id, seq, content_hash, hash, posted_at FROM depin_ledger_postings WHERE id = ANY($1)", (object)ids));
            read.BatchCommands.Add(Command("""
                SELECT a.id, a.unit, coalesce((SELECT e.balance FROM depin_ledger_entries e WHERE e.account = a.id ORDER BY e.seq DESC LIMIT 1), 0)
                FROM depin_ledger_accounts a WHERE a.id = ANY($1)
                """, (object)named));
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                head = new LedgerHead(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetString(0);
                taken[id] = new PostedReceipt(id, reader.GetInt64(1), reader.GetFieldValue<byte[]>(2), reader.GetFieldValue<byte[]>(3), reader.GetFieldValue<DateTimeOffset>(4));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetString(0);
                accounts[id] = new LedgerAccount(id, AccountId.KindOf(id)!.Value, reader.GetString(1), reader.GetInt64(2));
            }
        }

        var result = LedgerBook.Decide(head, accounts, taken, batch, now);
        if (result.Appended.Count > 0)
        {
            await Insert(connection, transaction, result.Appended, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return result.Decisions;
    }

    private static async Task Insert(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ChainedPosting> postings, CancellationToken cancellationToken)
    {
        var entries = postings.SelectMany(p => p.Posting.Entries.Select((e, i) => (p.Sequence, Entry: e, Balance: p.BalancesAfter[i]))).ToList();
        await using var write = new NpgsqlBatch(connection, transaction);
        write.BatchCommands.Add(Command("""
            INSERT INTO depin_ledger_postings (seq, id, kind, posted_at, memo, content_hash, prev_hash, hash)
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::bytea[], $7::bytea[], $8::bytea[])
            """,
            postings.Select(p => p.Sequence).ToArray(),
            postings.Select(p => p.Posting.Id).ToArray(),
            postings.Select(p => p.Posting.Kind).ToArray(),
            postings.Select(p => p.PostedAt.UtcDateTime).ToArray(),
            postings.Select(p => p.Posting.Memo).ToArray(),
            postings.Select(p => p.ContentHash).ToArray(),
            postings.Select(p => p.PreviousHash).ToArray(),
            postings.Select(p => p.Hash).ToArray()));
        write.BatchCommands.Add(Command("""
            INSERT INTO depin_ledger_entries (account, seq, debit, credit, balance)
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
            """,
            entries.Select(e => e.Entry.Account).ToArray(),
            entries.Select(e => e.Sequence).ToArray(),
            entries.Select(e => e.Entry.Debit).ToArray(),
            entries.Select(e => e.Entry.Credit).ToArray(),
            entries.Select(e => e.Balance).ToArray()));
        await write.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<AccountView?> Account(string id, CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand("""
            SELECT a.kind, a.unit, a.opened_at, e.balance, e.seq
            FROM depin_ledger_accounts a
            LEFT JOIN LATERAL (SELECT balance, seq FROM depin_ledger_entries WHERE account = a.id ORDER BY seq DESC LIMIT 1) e ON true
            WHERE a.id = $1
            """);
        command.Parameters.AddWithValue(id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new AccountView(id, reader.GetString(0), reader.GetString(1), reader.IsDBNull(3) ? 0 : reader.GetInt64(3),
            reader.GetFieldValue<DateTimeOffset>(2), reader.IsDBNull(4) ? null : reader.GetInt64(4));
    }

    public async Task<AccountPosting[]> Statement(string id, long after, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand("""
            SELECT e.seq, p.id, p.kind, p.posted_at, e.debit, e.credit, e.balance, p.memo
            FROM depin_ledger_entries e JOIN depin_ledger_postings p ON p.seq = e.seq
            WHERE e.account = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(after);
        command.Parameters.AddWithValue(limit);
        var rows = new List<AccountPosting>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new AccountPosting(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
        }

        return [.. rows];
    }

    public async Task<LedgerHead> Head(CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand("SELECT seq, hash FROM depin_ledger_postings ORDER BY seq DESC LIMIT 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new LedgerHead(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : LedgerHead.Empty;
    }

    public Task<IReadOnlyDictionary<string, (AccountKind Kind, string Unit)>> Accounts(CancellationToken cancellationToken = default) =>
        LedgerTables.Accounts(db, cancellationToken);

    public Task<IReadOnlyDictionary<string, long>> Balances(CancellationToken cancellationToken = default) =>
        LedgerTables.Balances(db, cancellationToken);

    public IAsyncEnumerable<ChainedPosting> History(CancellationToken cancellationToken = default) =>
        LedgerTables.History(db, cancellationToken);

    public async Task<ChainedPosting[]> Chain(long after, int limit, CancellationToken cancellationToken = default)
    {
        // A posting whose entries were deleted keeps its place (left join), so the verifier sees it broken, not missing.
        await using var command = db.CreateCommand("""
            SELECT p.seq, p.id, p.kind, p.posted_at, p.memo, p.content_hash, p.prev_hash, p.hash,
                   coalesce(array_agg(e.account ORDER BY e.account COLLATE "C") FILTER (WHERE e.seq IS NOT NULL), '{}'),
                   coalesce(array_agg(e.debit ORDER BY e.account COLLATE "C") FILTER (WHERE e.seq IS NOT NULL), '{}'),
                   coalesce(array_agg(e.credit ORDER BY e.account COLLATE "C") FILTER (WHERE e.seq IS NOT NULL), '{}'),
                   coalesce(array_agg(e.balance ORDER BY e.account COLLATE "C") FILTER (WHERE e.seq IS NOT NULL), '{}')
            FROM (SELECT * FROM depin_ledger_postings WHERE seq > $1 ORDER BY seq LIMIT $2) p
            LEFT JOIN depin_ledger_entries e ON e.seq = p.seq
            GROUP BY p.seq, p.id, p.kind, p.posted_at, p.memo, p.content_hash, p.prev_hash, p.hash
            ORDER BY p.seq
            """);
        command.Parameters.AddWithValue(after);
        command.Parameters.AddWithValue(limit);
        var chain = new List<ChainedPosting>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var accounts = reader.GetFieldValue<string[]>(8);
            var debits = reader.GetFieldValue<long[]>(9);
            var credits = reader.GetFieldValue<long[]>(10);
            var posting = new Posting(reader.GetString(1), reader.GetString(2),
                [.. accounts.Select((a, i) => new Entry(a, debits[i], credits[i]))], reader.IsDBNull(4) ? null : reader.GetString(4));
            chain.Add(new ChainedPosting(reader.GetInt64(0), posting, reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<byte[]>(5),
                reader.GetFieldValue<byte[]>(6), reader.GetFieldValue<byte[]>(7), reader.GetFieldValue<long[]>(11)));
        }

        return [.. chain];
    }

    // An array argument is one parameter: cast it to object, or params would spread it.
    private static NpgsqlBatchCommand Command(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }
}

/// <summary>
/// Reads the ledger's tables whole, as verification needs them; only <see cref="DePIN.Core"/>'s types come out, so the
/// command line verifies a database with no silo running.
/// </summary>
public static class LedgerTables
{
    public static async Task<IReadOnlyDictionary<string, (AccountKind Kind, string Unit)>> Accounts(NpgsqlDataSource db, CancellationToken cancellationToken = default)
    {
        var accounts = new Dictionary<string, (AccountKind, string)>(StringComparer.Ordinal);
        await using var command = db.CreateCommand("SELECT id, kind, unit FROM depin_ledger_accounts");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetString(0);
            var kind = AccountId.KindOf(id);
            // An account whose stored kind is not the one its id names was tampered with: it verifies as unknown.
            if (kind is { } k && AccountKinds.Name(k) == reader.GetString(1))
            {
                accounts[id] = (k, reader.GetString(2));
            }
        }

        return accounts;
    }

    public static async Task<IReadOnlyDictionary<string, long>> Balances(NpgsqlDataSource db, CancellationToken cancellationToken = default)
    {
        var balances = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var command = db.CreateCommand("SELECT DISTINCT ON (account) account, balance FROM depin_ledger_entries ORDER BY account, seq DESC");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            balances[reader.GetString(0)] = reader.GetInt64(1);
        }

        return balances;
    }

    /// <summary>Every posting with its entries, in sequence order, streamed (one pass over each table).</summary>
    public static async IAsyncEnumerable<ChainedPosting> History(NpgsqlDataSource db, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var postingsConnection = await db.OpenConnectionAsync(cancellationToken);
        await using var entriesConnection = await db.OpenConnectionAsync(cancellationToken);
        // One snapshot for both readers, so a writer committing meanwhile cannot make them disagree.
        await using var transaction = await postingsConnection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using var export = new NpgsqlCommand("SELECT pg_export_snapshot()", postingsConnection, transaction);
        var snapshot = (string)(await export.ExecuteScalarAsync(cancellationToken))!;
        await using var entriesTransaction = await entriesConnection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using (var set = new NpgsqlCommand($"SET TRANSACTION SNAPSHOT '{snapshot}'", entriesConnection, entriesTransaction))
        {
            await set.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var postings = new NpgsqlCommand(
            "SELECT seq, id, kind, posted_at, memo, content_hash, prev_hash, hash FROM depin_ledger_postings ORDER BY seq", postingsConnection, transaction);
        await using var entries = new NpgsqlCommand(
            "SELECT seq, account, debit, credit, balance FROM depin_ledger_entries ORDER BY seq, account COLLATE \"C\"", entriesConnection, entriesTransaction);
        await using var p = await postings.ExecuteReaderAsync(cancellationToken);
        await using var e = await entries.ExecuteReaderAsync(cancellationToken);
        var more = await e.ReadAsync(cancellationToken);
        while (await p.ReadAsync(cancellationToken))
        {
            var seq = p.GetInt64(0);
            var lines = new List<Entry>();
            var after = new List<long>();
            while (more && e.GetInt64(0) < seq)
            {
                more = await e.ReadAsync(cancellationToken); // entries of no posting: the verifier finds the balances off
            }

            while (more && e.GetInt64(0) == seq)
            {
                lines.Add(new Entry(e.GetString(1), e.GetInt64(2), e.GetInt64(3)));
                after.Add(e.GetInt64(4));
                more = await e.ReadAsync(cancellationToken);
            }

            var posting = new Posting(p.GetString(1), p.GetString(2), lines, p.IsDBNull(4) ? null : p.GetString(4));
            yield return new ChainedPosting(seq, posting, p.GetFieldValue<DateTimeOffset>(3), p.GetFieldValue<byte[]>(5),
                p.GetFieldValue<byte[]>(6), p.GetFieldValue<byte[]>(7), [.. after]);
        }
    }
}
