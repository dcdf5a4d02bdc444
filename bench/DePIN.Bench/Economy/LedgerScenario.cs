using System.Diagnostics;
using System.Text.Json.Nodes;
using DePIN.Abstractions.Economy;
using DePIN.Core.Economy;
using DePIN.Grains.Economy;
using DePIN.Testing;
using HdrHistogram;
using Npgsql;

namespace DePIN.Bench.Economy;

public sealed record LedgerSettings(int Seconds, int Concurrency, int Accounts, string? Postgres);

/// <summary>
/// Durable ledger postings: callers post transfers (a tenant pays a provider) through the ledger grain of a silo on
/// PostgreSQL with fsync on, each counted once its call returned Posted, that is once its batch committed. In the
/// same run and on the same database, two references: the bound, the same rows (a posting and its two entries)
/// inserted in 1,000-posting transactions by one connection with nothing decided, which is what the disk and the
/// database allow; and the naive way, one transaction per posting from as many callers. Then the whole chain is
/// verified from the tables.
/// </summary>
public static class LedgerScenario
{
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    public static Func<Task<JsonObject>> Prepare(LedgerSettings settings, TextWriter progress) => () => Run(settings, progress);

    private static async Task<JsonObject> Run(LedgerSettings s, TextWriter progress)
    {
        await using var server = new PostgresServer { Durable = true };
        string connection;
        if (s.Postgres is { } given)
        {
            connection = given;
        }
        else
        {
            await server.InitializeAsync();
            connection = await server.CreateDatabase();
            progress.WriteLine("ledger: started a throw-away PostgreSQL server (fsync on)");
        }

        var (silo, _) = await BenchSilo.Start(connection);
        await using var _ = silo;
        var ledger = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<ILedgerGrain>(0);

        var tenants = Enumerable.Range(0, Math.Max(1, s.Accounts / 10)).Select(i => AccountId.Tenant($"bench-{i}")).ToArray();
        var providers = Enumerable.Range(0, s.Accounts).Select(i => AccountId.Provider($"bench-node-{i}")).ToArray();
        await ledger.Open([.. tenants, .. providers]);
        await ledger.PostMany([.. tenants.Select((t, i) => new PostingRequest($"fund-{i}", PostingKinds.Deposit,
            [new LedgerEntry(AccountId.External, Debit: PostingRules.MaxAmount / tenants.Length), new LedgerEntry(t, Credit: PostingRules.MaxAmount / tenants.Length)]))]);
        progress.WriteLine($"ledger: {tenants.Length} tenants funded, {providers.Length} provider accounts open");

        long next = 0;
        PostingRequest Transfer()
        {
            var n = Interlocked.Increment(ref next);
            var tenant = tenants[(int)(n % tenants.Length)];
            var provider = providers[(int)((n * 7919) % providers.Length)];
            return new PostingRequest($"pay-{n}", PostingKinds.Lease, [new LedgerEntry(tenant, Debit: 1 + (n % 1000)), new LedgerEntry(provider, Credit: 1 + (n % 1000))]);
        }

        await Load(s.Concurrency, WarmUp, () => ledger.Post(Transfer()));
        var window = await Load(s.Concurrency, TimeSpan.FromSeconds(s.Seconds), () => ledger.Post(Transfer()));
        var perSecond = window.Count / window.Elapsed.TotalSeconds;
        progress.WriteLine($"ledger: {window.Count} postings durable in {window.Elapsed.TotalSeconds:0.0} s, {window.Failed} not posted");

        var (verified, postings) = await Verify(connection);
        progress.WriteLine($"ledger: the chain of {postings} postings verifies: {verified}");
        await silo.StopAsync();

        var reference = TimeSpan.FromSeconds(Math.Min(10, s.Seconds));
        var bound = await Bound(connection, reference);
        var naive = await OnePerTransaction(connection, s.Concurrency, reference);
        progress.WriteLine($"ledger: bound {bound:0}/s (rows alone, 1,000 postings a transaction), one posting a transaction {naive:0}/s");

        return new JsonObject
        {
            ["scenario"] = "ledger",
            ["postings_per_s"] = Math.Round(perSecond, 1),
            ["p50_ms"] = Math.Round(window.Histogram.GetValueAtPercentile(50) / 1000.0, 2),
            ["p99_ms"] = Math.Round(window.Histogram.GetValueAtPercentile(99) / 1000.0, 2),
            ["failed"] = window.Failed,
            ["bound_postings_per_s"] = Math.Round(bound, 1),
            ["share_of_bound"] = Math.Round(perSecond / bound, 3),
            ["one_per_transaction_postings_per_s"] = Math.Round(naive, 1),
            ["speedup_over_one_per_transaction"] = Math.Round(perSecond / naive, 2),
            ["chain_postings"] = postings,
            ["chain_verified"] = verified,
            ["seconds"] = s.Seconds,
            ["concurrency"] = s.Concurrency,
            ["accounts"] = tenants.Length + providers.Length,
        };
    }

    private sealed record Window(long Count, long Failed, TimeSpan Elapsed, HistogramBase Histogram);

    private static async Task<Window> Load(int concurrency, TimeSpan duration, Func<Task<PostingResult>> call)
    {
        var histogram = new LongConcurrentHistogram(1, 60_000_000, 3);
        long count = 0, failed = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            await Task.Yield();
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                var result = await call();
                histogram.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds));
                Interlocked.Increment(ref result.Status == PostingStatus.Posted ? ref count : ref failed);
            }
        }));
        return new Window(count, failed, clock.Elapsed, histogram);
    }

    private static async Task<(bool Valid, long Postings)> Verify(string connection)
    {
        await using var db = NpgsqlDataSource.Create(connection);
        var verifier = new LedgerVerifier(await LedgerTables.Accounts(db));
        await foreach (var posting in LedgerTables.History(db))
        {
            verifier.Add(posting);
        }

        var report = verifier.Finish(await LedgerTables.Balances(db));
        return (report.Valid, report.Postings);
    }

    private const string ScratchTables = """
        CREATE TABLE IF NOT EXISTS bench_postings (seq bigint PRIMARY KEY, id text NOT NULL UNIQUE, kind text NOT NULL, posted_at timestamptz NOT NULL,
            memo text, content_hash bytea NOT NULL, prev_hash bytea NOT NULL, hash bytea NOT NULL);
        CREATE TABLE IF NOT EXISTS bench_entries (account text NOT NULL, seq bigint NOT NULL REFERENCES bench_postings (seq), debit bigint NOT NULL,
            credit bigint NOT NULL, balance bigint NOT NULL, PRIMARY KEY (account, seq));
        TRUNCATE bench_entries, bench_postings;
        """;

    /// <summary>Postings' rows alone, 1,000 postings (3,000 rows) a transaction, one connection: the database's bound.</summary>
    private static async Task<double> Bound(string connection, TimeSpan duration)
    {
        await using var db = NpgsqlDataSource.Create(connection);
        await using (var create = db.CreateCommand(ScratchTables))
        {
            await create.ExecuteNonQueryAsync();
        }

        var hash = new byte[32];
        long seq = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            var batch = Enumerable.Range(0, 1000).Select(_ => ++seq).ToArray();
            await using var insert = db.CreateBatch();
            var postings = new NpgsqlBatchCommand("""
                INSERT INTO bench_postings SELECT s, 'p-' || s, 'lease', now(), NULL, $2, $2, $2 FROM unnest($1::bigint[]) AS s
                """);
            postings.Parameters.Add(new NpgsqlParameter { Value = batch });
            postings.Parameters.Add(new NpgsqlParameter { Value = hash });
            var entries = new NpgsqlBatchCommand("""
                INSERT INTO bench_entries SELECT a, s, d, c, 0 FROM unnest($1::bigint[]) AS s,
                    LATERAL (VALUES ('tenant:t' || (s % 1000), s % 1000 + 1, 0::bigint), ('provider:n' || (s * 7919 % 10000), 0::bigint, s % 1000 + 1)) AS e (a, d, c)
                """);
            entries.Parameters.Add(new NpgsqlParameter { Value = batch });
            insert.BatchCommands.Add(postings);
            insert.BatchCommands.Add(entries);
            await insert.ExecuteNonQueryAsync();
        }

        return seq / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The same rows, one posting per transaction, from <paramref name="concurrency"/> callers at once (at most the pool's connections).</summary>
    private static async Task<double> OnePerTransaction(string connection, int concurrency, TimeSpan duration)
    {
        await using var db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connection) { MaxPoolSize = 64 }.ConnectionString);
        await using (var create = db.CreateCommand(ScratchTables))
        {
            await create.ExecuteNonQueryAsync();
        }

        var hash = new byte[32];
        long seq = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, 64)).Select(async _ =>
        {
            await Task.Yield();
            while (clock.Elapsed < duration)
            {
                var s = Interlocked.Increment(ref seq);
                await using var insert = db.CreateCommand("""
                    WITH p AS (INSERT INTO bench_postings VALUES ($1, 'p-' || $1, 'lease', now(), NULL, $2, $2, $2) RETURNING seq)
                    INSERT INTO bench_entries SELECT 'tenant:t' || ($1 % 1000), seq, $1 % 1000 + 1, 0, 0 FROM p
                    UNION ALL SELECT 'provider:n' || ($1 * 7919 % 10000), seq, 0, $1 % 1000 + 1, 0 FROM p
                    """);
                insert.Parameters.Add(new NpgsqlParameter { Value = s });
                insert.Parameters.Add(new NpgsqlParameter { Value = hash });
                await insert.ExecuteNonQueryAsync();
            }
        }));
        return seq / clock.Elapsed.TotalSeconds;
    }
}
