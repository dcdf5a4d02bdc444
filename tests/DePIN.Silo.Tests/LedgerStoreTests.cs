using DePIN.Core.Economy;
using DePIN.Grains.Economy;
using Npgsql;

namespace DePIN.Silo.Tests;

/// <summary>
/// The ledger's PostgreSQL store driven directly on a silo's migrated database, as two silos' writers would drive it
/// at once: random histories (seeded) keep the invariants, and the whole history verifies offline.
/// </summary>
public sealed class LedgerStoreTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>
{
    [Fact]
    public async Task Two_writers_racing_keep_one_chain_conserve_supply_and_verify_offline()
    {
        await using var first = NpgsqlDataSource.Create(cluster.ConnectionString);
        await using var second = NpgsqlDataSource.Create(cluster.ConnectionString);
        ILedgerStore[] writers = [new PostgresLedgerStore(first), new PostgresLedgerStore(second)];
        var prefix = Guid.NewGuid().ToString("N")[..8];
        string[] accounts = [.. Enumerable.Range(0, 12).Select(i => (i % 3) switch
        {
            0 => AccountId.Tenant($"{prefix}-{i}"),
            1 => AccountId.Provider($"{prefix}-{i}"),
            _ => AccountId.Escrow($"{prefix}", $"job-{i}"),
        }), AccountId.External, AccountId.Treasury];
        await writers[0].Open(accounts, DateTimeOffset.UtcNow);
        var random = new Random(7);
        var model = new Dictionary<string, long>(StringComparer.Ordinal);
        var accepted = new List<Posting>();

        for (var round = 0; round < 40; round++)
        {
            // Each writer sends its own batch at the same moment; some postings name the other's ids.
            var batches = writers.Select((_, w) => Enumerable.Range(0, random.Next(5, 40)).Select(i => Generate(random, accounts, $"{prefix}-{round}-{random.Next(60)}")).ToList()).ToArray();
            var decisions = await Task.WhenAll(writers.Select((writer, w) => writer.Append(batches[w], DateTimeOffset.UtcNow)));
            for (var w = 0; w < writers.Length; w++)
            {
                foreach (var (posting, decision) in batches[w].Zip(decisions[w]))
                {
                    if (decision.Outcome == PostingOutcome.Posted)
                    {
                        accepted.Add(posting);
                        foreach (var e in posting.Entries)
                        {
                            model[e.Account] = model.GetValueOrDefault(e.Account) + e.Change;
                        }
                    }
                }
            }
        }

        Assert.True(accepted.Count > 200, $"only {accepted.Count} postings were accepted");

        // Every acknowledged posting sent again, to both writers at once, is a duplicate and moves nothing.
        var replays = await Task.WhenAll(writers.Select(w => w.Append(accepted, DateTimeOffset.UtcNow)));
        Assert.All(replays.SelectMany(r => r), d => Assert.Equal(PostingOutcome.Duplicate, d.Outcome));

        var verifier = new LedgerVerifier(await writers[1].Accounts());
        var chained = 0;
        await foreach (var posting in writers[1].History())
        {
            verifier.Add(posting);
            chained += posting.Posting.Id.StartsWith(prefix, StringComparison.Ordinal) ? 1 : 0;
        }

        var balances = await writers[1].Balances();
        var report = verifier.Finish(balances);
        Assert.True(report.Valid, string.Join("\n", report.Problems));
        Assert.Equal(accepted.Count, chained); // the other test of the class may have posted before this one: count ours
        Assert.Equal(Convert.ToHexStringLower((await writers[0].Head()).Hash), Convert.ToHexStringLower(report.HeadHash));
        // The outside world and the treasury are shared with the class's other test; this test's own accounts are its alone.
        foreach (var (account, balance) in model.Where(m => m.Key.Contains(prefix, StringComparison.Ordinal)))
        {
            Assert.Equal(balance, balances.GetValueOrDefault(account));
        }
    }

    [Fact]
    public async Task The_tables_refuse_to_rewrite_history()
    {
        await using var db = NpgsqlDataSource.Create(cluster.ConnectionString);
        var store = new PostgresLedgerStore(db);
        var tenant = AccountId.Tenant($"rewrite-{Guid.NewGuid():N}"[..30]);
        await store.Open([tenant], DateTimeOffset.UtcNow);
        await store.Append([Postings.Deposit(tenant, $"d-{Guid.NewGuid():N}", 100)], DateTimeOffset.UtcNow);

        foreach (var sql in new[]
        {
            "UPDATE depin_ledger_entries SET balance = balance * 2",
            "DELETE FROM depin_ledger_postings",
            "TRUNCATE depin_ledger_entries",
        })
        {
            await using var command = db.CreateCommand(sql);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.Contains("append-only", refused.MessageText, StringComparison.Ordinal);
        }
    }

    private static Posting Generate(Random random, string[] accounts, string id)
    {
        var count = random.Next(2, 4);
        var chosen = accounts.OrderBy(_ => random.Next()).Take(count).ToArray();
        if (random.NextDouble() < 0.35 && !chosen.Contains(AccountId.External))
        {
            chosen[0] = AccountId.External;
        }

        var amounts = chosen[1..].Select(_ => (long)random.Next(1, 10_000)).ToArray();
        return new Posting(id, PostingKinds.Adjustment, [Entry.From(chosen[0], amounts.Sum()), .. chosen[1..].Select((a, i) => Entry.To(a, amounts[i]))]);
    }
}
