using System.Net.Http.Json;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Economy;
using DePIN.Core.Work;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>Jobs through a silo crash: two silo processes, a node agent process running the work, one silo killed.</summary>
public sealed class JobFailoverTests(PostgresServer postgres) : IDisposable
{
    private const int Jobs = 100;
    private const long Steps = 300_000; // about a quarter of a second of one core each
    private readonly List<TestNode> _nodes = [];
    private readonly string _keys = Path.Combine(Path.GetTempPath(), $"depin-failover-{Guid.NewGuid():N}");

    [Fact]
    public async Task Killing_a_silo_while_100_jobs_run_finishes_every_job_exactly_once()
    {
        var database = await postgres.CreateDatabase();
        var clusterId = $"jobs-failover-{Guid.NewGuid():N}";
        // Nodes stay online through the fail-over (their liveness is measured in minutes here), so what is tested is
        // the platform's own recovery, not re-placement after node loss.
        var settings = new Dictionary<string, string>(SiloOnPostgres.Settings) { ["Nodes:TelemetryInterval"] = "00:01:00" };
        await using var survivor = await ServiceProcess.StartSilo(database, clusterId, settings);
        await using var victim = await ServiceProcess.StartSilo(database, clusterId, settings);
        await using var agent = await ServiceProcess.StartAgent(
            "--api", survivor.Http.BaseAddress!.ToString(), "--simulate", "8", "--interval", "0.5", "--key-dir", _keys, "--max-parallel-work", "1");
        await Wait.Until(() => Task.FromResult(AgentKeys.NodeIds(_keys)), ids => ids.Count == 8, "eight key files");
        _nodes.AddRange(AgentKeys.Signers(_keys).Select(s => new TestNode(s, TestNode.DefaultCapabilities())));
        await Wait.Until(() => Listed<NodeSummary>(survivor, "/v1/nodes?status=online"), n => n.Length == 8, "the fleet online");
        var jobs = new JobApi(survivor.Http);
        var key = await jobs.NewTenant();

        for (var i = 0; i < Jobs; i++)
        {
            var spec = TestJob.Spec(replicas: 1, cpuCores: 1) with { Batch = new BatchWork((ulong)i, Steps) };
            (await jobs.Send(HttpMethod.Put, $"/v1/jobs/job-{i:D3}", key, spec)).EnsureSuccessStatusCode();
        }

        await Wait.Until(() => Listed<JobSummary>(survivor, "/v1/jobs?state=running&limit=1000", key), s => s.Length >= 50, "half the jobs running");
        await victim.Kill();
        string tally;
        try
        {
            tally = await Wait.Until(async () => Tally(await Listed<JobSummary>(survivor, "/v1/jobs?limit=1000", key)),
                t => t == $"{Jobs} succeeded", "every job to succeed after the kill", TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException(ex.Message + "\nAGENT\n" + agent.Output + "\nSURVIVOR\n" + survivor.Output);
        }
        var details = await Wait.Until(() => Task.WhenAll(Enumerable.Range(0, Jobs).Select(i => Job(survivor, $"job-{i:D3}", key))),
            d => d.All(j => j is not null), "every job's details", TimeSpan.FromMinutes(2));
        var all = await Listed<JobSummary>(survivor, "/v1/jobs?limit=1000", key);
        var left = await Wait.Until(async () => string.Join(", ", (await Task.WhenAll(_nodes.Select(n => Inbox(survivor, n))))
                .Select(set => set is null ? "(no answer)" : string.Join(", ", set.Items.Select(i => $"{i.JobKey}#{i.Slot}@{i.Attempt}{(i.Stop ? " stop" : "")}")))
                .Where(text => text.Length > 0)),
            text => text.Length == 0, "every node's inbox to be empty", TimeSpan.FromMinutes(2));

        // The money through the kill: every escrow emptied, the chain verifies, and what the tenant paid is exactly
        // what the leases took out of its escrows: nothing charged twice, nothing refunded twice.
        var ledger = new LedgerApi(survivor.Http);
        var name = key.Split('.')[0];
        await Wait.Until(() => Task.WhenAll(Enumerable.Range(0, Jobs).Select(i => ledger.Balance(AccountId.Escrow(name, $"job-{i:D3}")))),
            b => b.All(x => x == 0), "every escrow refunded", TimeSpan.FromMinutes(2));
        var chain = await ledger.Chain();
        var report = LedgerApi.Verify(chain);
        var leased = chain.Where(p => p.Kind == PostingKinds.Lease).SelectMany(p => p.Entries)
            .Where(e => AccountId.TenantOf(e.Account) == name).Sum(e => e.Debit);
        Assert.True(report.Valid, string.Join("\n", report.Problems));
        Assert.Equal(JobApi.Funds - leased, await ledger.Balance(AccountId.Tenant(name)));
        Assert.Equal(Jobs, chain.Count(p => p.Kind == PostingKinds.Refund));

        Assert.Equal(Jobs, all.Length); // none lost, none doubled
        Assert.All(details.Select((d, i) => (d, i)), x =>
            Assert.Equal((JobStatus.Succeeded, BatchKernel.Result((ulong)x.i, 0, Steps)), (x.d!.Status, x.d.Result)));
        Assert.Equal($"{Jobs} succeeded", tally);
        Assert.Equal("", left); // nothing left to run: no job runs again
    }

    private static string Tally(JobSummary[] jobs) =>
        string.Join(", ", jobs.GroupBy(j => j.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));

    // Empty while the silo is busy failing over.
    private static async Task<T[]> Listed<T>(ServiceProcess silo, string path, string? key = null) =>
        await silo.Http.Find<T[]>(path, key) ?? [];

    private static Task<JobDetails?> Job(ServiceProcess silo, string id, string key) => silo.Http.Find<JobDetails>($"/v1/jobs/{id}", key);

    private static async Task<WorkSet?> Inbox(ServiceProcess silo, TestNode node)
    {
        using var response = await node.Post(silo.Http, $"/v1/nodes/{node.Id}/work", TestNode.Json(new WorkPoll(node.Id, -1, 0, DateTimeOffset.UtcNow)));
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<WorkSet>(ApiJson.Options) : null;
    }

    public void Dispose()
    {
        _nodes.ForEach(n => n.Dispose());
        if (Directory.Exists(_keys))
        {
            Directory.Delete(_keys, recursive: true);
        }
    }
}
