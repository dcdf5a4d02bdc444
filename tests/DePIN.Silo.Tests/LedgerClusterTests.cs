using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Http;
using DePIN.Core.Economy;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>The ledger through a silo crash: two silo processes writing one chain in PostgreSQL, one killed mid-write.</summary>
public sealed class LedgerClusterTests(PostgresServer postgres)
{
    private const int Postings = 2000;
    private const int Senders = 32;
    private const int Tenants = 8;

    [Fact]
    public async Task Postings_through_two_silos_survive_killing_one_mid_write_with_nothing_acknowledged_lost_or_doubled()
    {
        var database = await postgres.CreateDatabase();
        var clusterId = $"ledger-{Guid.NewGuid():N}";
        await using var survivor = await ServiceProcess.StartSilo(database, clusterId, SiloOnPostgres.Settings);
        await using var victim = await ServiceProcess.StartSilo(database, clusterId, SiloOnPostgres.Settings);
        var jobs = new JobApi(survivor.Http);
        var tenants = new List<string>();
        for (var t = 0; t < Tenants; t++)
        {
            tenants.Add(AccountId.Tenant((await jobs.NewTenant(funds: 0)).Split('.')[0]));
        }

        // Posting i pays i + 1 microcredits into one of the tenants. Even ones go to the victim first; whatever a silo
        // did not acknowledge is sent again, under the same id, to the survivor until it is.
        PostingRequest Deposit(int i) => LedgerApi.Deposit(tenants[i % Tenants], i + 1, $"load-{i}");
        var receipts = new ConcurrentDictionary<string, (PostingResult Receipt, bool ByVictim)>();
        var retried = 0;
        var next = -1;
        async Task Send()
        {
            for (var i = Interlocked.Increment(ref next); i < Postings; i = Interlocked.Increment(ref next))
            {
                var target = i % 2 == 0 && !victim.HasExited ? victim : survivor;
                for (var attempt = 0; ; attempt++)
                {
                    if (await TryPost(target, Deposit(i)) is { } receipt)
                    {
                        receipts[receipt.Id] = (receipt, target == victim);
                        break;
                    }

                    Assert.True(attempt < 10_000, $"load-{i} was never acknowledged");
                    Interlocked.Increment(ref retried);
                    target = survivor;
                }
            }
        }

        var senders = Enumerable.Range(0, Senders).Select(_ => Task.Run(Send)).ToList();
        await Wait.Until(() => Task.FromResult(receipts.Count), n => n >= Postings / 4, "a quarter of the postings acknowledged");
        await victim.Kill();
        await Task.WhenAll(senders);

        var chain = await new LedgerApi(survivor.Http).Chain();
        var report = LedgerApi.Verify(chain);
        var load = chain.Where(p => p.Id.StartsWith("load-", StringComparison.Ordinal)).ToList();
        var balances = await Task.WhenAll(tenants.Select(t => new LedgerApi(survivor.Http).Balance(t)));

        Assert.True(report.Valid, string.Join("\n", report.Problems));
        Assert.Equal(Postings, receipts.Count);
        Assert.Contains(receipts.Values, r => r.ByVictim);
        Assert.True(retried > 0, "no posting was in flight at the kill");
        // Each posting is in the chain once, where its acknowledgement said, whichever silo gave it.
        Assert.Equal(Postings, load.Select(p => p.Id).Distinct().Count());
        Assert.Equal(Postings, load.Count);
        Assert.All(load, p => Assert.Equal((receipts[p.Id].Receipt.Sequence, receipts[p.Id].Receipt.Hash), (p.Sequence, p.Hash)));
        Assert.Equal(tenants.Select((_, t) => Enumerable.Range(0, Postings).Where(i => i % Tenants == t).Sum(i => i + 1L)), balances);
    }

    /// <summary>The receipt, or null when the silo gave none (it died, or failed the write): the posting may be sent again.</summary>
    private static async Task<PostingResult?> TryPost(ServiceProcess silo, PostingRequest posting)
    {
        try
        {
            using var response = await new LedgerApi(silo.Http).Post(posting);
            if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
            {
                return await response.Content.ReadFromJsonAsync<PostingResult>(ApiJson.Options);
            }

            Assert.True((int)response.StatusCode >= 500, $"{posting.Id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }
}
