using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Economy;
using DePIN.Core.Work;
using DePIN.Grains.Nodes;
using DePIN.Testing;

namespace DePIN.Grains.Tests;

/// <summary>
/// The money of jobs, on the grains with the platform clock driven by the test: escrow at submission, providers paid
/// per verified replica-hour at their lease rate less the fee, slashing of liars and of nodes that abandon a lease, and
/// the rest of escrow back to the tenant.
/// </summary>
public sealed class EconomyTests(EconomyTests.FixedRateCluster cluster) : IClassFixture<EconomyTests.FixedRateCluster>
{
    /// <summary>The cluster of these tests: the rate stays at the cpu class's base rate for the whole test.</summary>
    public sealed class FixedRateCluster() : NodeCluster(new Dictionary<string, string?> { ["Economy:RateInterval"] = "01:00:00" });

    private static JobSpec Batch(string region, int redundancy) => TestJob.Spec(replicas: 1, cpuCores: 8) with
    {
        Constraints = JobConstraints.None with { Regions = [region] },
        Verification = new VerificationPolicy(redundancy, Adaptive: false),
    };

    // 8 cores at 0.05 credits a core-hour, run for 8 s of platform time.
    private const long Rate = 8 * AccountId.PerCredit / 20;
    private static readonly long Gross = (long)Math.Floor(Rate * (8 / 3600.0));
    private static readonly long Fee = (long)Math.Floor(Gross * 0.10);

    [Fact]
    public async Task A_verified_job_pays_each_honest_node_its_hours_slashes_the_liar_and_refunds_the_rest()
    {
        using var slashes = new Slashes();
        var fleet = await Fleet.Online(cluster, "econ-1", 3);
        var liar = fleet[1];
        await cluster.Fund(AccountId.Provider(liar.Id), 20 * AccountId.PerCredit);
        Assert.True((await cluster.Sdk.StakeAsync(liar.Id, "bond", 20 * AccountId.PerCredit)).Accepted);
        var before = await Balance(cluster, AccountId.Tenant("acme"));
        var (poolBefore, treasuryBefore) = (await Balance(cluster, AccountId.SlashingPool), await Balance(cluster, AccountId.Treasury));

        var submitted = await cluster.Sdk.SubmitJobAsync("acme", "paid", Batch("econ-1", redundancy: 3));
        var escrowed = await Balance(cluster, AccountId.Escrow("acme", "paid"));
        var placed = await WorkTests.JobWhen(cluster, "paid", j => j.Status == JobStatus.Placed, "the job placed");
        var items = await Task.WhenAll(fleet.Select(a => a.Next("paid")));
        foreach (var (agent, item) in fleet.Zip(items))
        {
            await agent.Report(item, WorkReportKind.Started, 0);
        }

        cluster.Time.Advance(TimeSpan.FromSeconds(8));
        foreach (var (agent, item) in fleet.Zip(items))
        {
            var end = GrainAgent.RunTo(item, TestJob.Steps);
            await agent.Report(item, WorkReportKind.Completed, end.Step, result: agent == liar ? BatchKernel.ContentHash("made up"u8) : end.Hex);
        }

        var done = await WorkTests.JobWhen(cluster, "paid", j => j.Status == JobStatus.Succeeded, "the job succeeded");
        await Wait.Until(() => Balance(cluster, AccountId.Escrow("acme", "paid")), b => b == 0, "the escrow refunded");
        var honest = fleet.Where(a => a != liar).ToArray();
        var paid = await Task.WhenAll(honest.Select(a => cluster.Sdk.GetAccountAsync(AccountId.Provider(a.Id))));
        var lines = await cluster.Sdk.ListPostingsAsync(AccountId.Provider(honest[0].Id)).ToArrayAsync();

        Assert.Equal(SubmitOutcome.Created, submitted.Outcome);
        Assert.Equal(Settlement.Budget(AccountId.Microcredits(1.5m), 3, 600), escrowed);
        Assert.All(placed.Assignments, a => Assert.Equal((Rate, true), (a.Rate, a.Forecast is > 0 and <= 1)));
        Assert.Equal(["lease", "bonus"], lines.Select(l => l.Kind));
        Assert.Equal(Gross - Fee, lines[0].Credit);
        Assert.InRange(lines[1].Credit, 1, (long)(Gross * 0.05));
        Assert.All(paid, p => Assert.InRange(p!.Balance, Gross - Fee + 1, Gross - Fee + (long)(Gross * 0.05)));
        Assert.Equal(0, await Balance(cluster, AccountId.Provider(liar.Id)));
        Assert.Equal(10 * AccountId.PerCredit, await Balance(cluster, AccountId.Stake(liar.Id)));
        Assert.Equal(5 * AccountId.PerCredit, await Balance(cluster, AccountId.SlashingPool) - poolBefore);
        Assert.Equal(before - (2 * Gross) + (5 * AccountId.PerCredit), await Balance(cluster, AccountId.Tenant("acme")));
        Assert.Equal(2 * Fee, await Balance(cluster, AccountId.Treasury) - treasuryBefore + paid.Sum(p => p!.Balance) - (2 * (Gross - Fee)));
        Assert.Equal(JobStatus.Succeeded, done.Status);
        Assert.True(slashes.Count("disagreed") >= 1, "depin_slashes_total{reason=\"disagreed\"} did not count the slash");

        // One reputation: the liar falls below a new identity's 0.5, which stays below the honest nodes'.
        var reputations = await Task.WhenAll(fleet.Select(async a => (await cluster.Node(a.Id).GetDetails())!.Reputation));
        Assert.True(reputations[1].Score < NodeSummary.NewReputation, $"liar at {reputations[1].Score}");
        Assert.All(reputations.Where((_, i) => i != 1), r => Assert.True(r.Score > NodeSummary.NewReputation && r.Delivered == 1, $"honest at {r.Score}"));
    }

    [Fact]
    public async Task A_node_that_vanishes_mid_lease_is_slashed_and_unpaid_and_the_node_that_finishes_is_paid()
    {
        using var slashes = new Slashes();
        var fleet = await Fleet.Online(cluster, "econ-2", 2);
        foreach (var agent in fleet)
        {
            await cluster.Fund(AccountId.Provider(agent.Id), 20 * AccountId.PerCredit);
            await cluster.Sdk.StakeAsync(agent.Id, "bond", 20 * AccountId.PerCredit);
        }

        await cluster.Sdk.SubmitJobAsync("acme", "left", Batch("econ-2", redundancy: 1));
        var placed = await WorkTests.JobWhen(cluster, "left", j => j.Status == JobStatus.Placed, "the job placed");
        var lost = fleet.Single(a => a.Id == placed.Assignments[0].NodeId);
        var survivor = fleet.Single(a => a != lost);
        var item = await lost.Next("left");
        await lost.Report(item, WorkReportKind.Started, 0);
        await Fleet.Silence(cluster, lost, survivor);
        await WorkTests.JobWhen(cluster, "left", j => j.Attempts == 2 && j.Status == JobStatus.Placed, "the job placed again");
        var moved = await survivor.Next("left", attempt: 2);
        await survivor.Report(moved, WorkReportKind.Started, 0);
        cluster.Time.Advance(TimeSpan.FromSeconds(8));
        var end = GrainAgent.RunTo(moved, TestJob.Steps);
        await survivor.Report(moved, WorkReportKind.Completed, end.Step, result: end.Hex);
        await WorkTests.JobWhen(cluster, "left", j => j.Status == JobStatus.Succeeded, "the job succeeded");
        await Wait.Until(() => Balance(cluster, AccountId.Escrow("acme", "left")), b => b == 0, "the escrow refunded");

        Assert.Equal(10 * AccountId.PerCredit, await Balance(cluster, AccountId.Stake(lost.Id)));
        Assert.Equal(0, await Balance(cluster, AccountId.Provider(lost.Id)));
        Assert.Equal(20 * AccountId.PerCredit, await Balance(cluster, AccountId.Stake(survivor.Id)));
        Assert.InRange(await Balance(cluster, AccountId.Provider(survivor.Id)), Gross - Fee, Gross);
        Assert.Equal(1, (await cluster.Node(lost.Id).GetDetails())!.Reputation.Abandoned);
        Assert.True(slashes.Count("abandoned") >= 1, "depin_slashes_total{reason=\"abandoned\"} did not count the slash");
    }

    [Fact]
    public async Task A_tenant_that_cannot_fund_the_escrow_gets_no_job_and_keeps_its_balance()
    {
        await Fleet.Online(cluster, "econ-3", 1);
        await cluster.Fund(AccountId.Tenant("poor"), 1000);

        var refused = await cluster.Sdk.SubmitJobAsync("poor", "big", Batch("econ-3", redundancy: 1));
        var unopened = await cluster.Sdk.SubmitJobAsync("nobody", "big", Batch("econ-3", redundancy: 1));

        Assert.Equal(SubmitOutcome.InsufficientFunds, refused.Outcome);
        Assert.Contains("tenant:poor", refused.Detail, StringComparison.Ordinal);
        Assert.Equal(SubmitOutcome.InsufficientFunds, unopened.Outcome);
        Assert.Null(await cluster.Sdk.GetJobAsync("poor", "big"));
        Assert.Equal(1000, await Balance(cluster, AccountId.Tenant("poor")));
    }

    [Fact]
    public async Task Evidence_is_taken_once_per_id_and_a_node_remembers_only_its_last_ids()
    {
        var agent = TestNode.Create(region: "econ-4");
        var node = cluster.Node(agent.Id);
        await node.Register(agent.Registration(cluster.Time.GetUtcNow()));

        var first = await node.RecordEvidence("job:t/j:1", new ReputationEvidence(Delivered: 1));
        var repeated = await node.RecordEvidence("job:t/j:1", new ReputationEvidence(Delivered: 1)); // a settlement retried
        var next = await node.RecordEvidence("job:t/j:2", new ReputationEvidence(Delivered: 1));

        Assert.Equal(first, repeated);
        Assert.True(next > first, $"{next} after {first}");
        Assert.Equal(2, (await node.GetDetails())!.Reputation.Delivered);

        // The memory is bounded: once it is full, the oldest id is forgotten (and would count again).
        for (var i = 0; i < NodeState.EvidenceMemory - 1; i++)
        {
            await node.RecordEvidence($"dataset:d:{i}", new ReputationEvidence(Records: 1));
        }

        await node.RecordEvidence("job:t/j:2", new ReputationEvidence(Delivered: 1)); // still among the last
        await node.RecordEvidence("job:t/j:1", new ReputationEvidence(Delivered: 1)); // forgotten
        var details = (await node.GetDetails())!.Reputation;
        Assert.Equal(3, details.Delivered);
        Assert.Equal(NodeState.EvidenceMemory - 1, details.Records);
    }

    private static async Task<long> Balance(NodeCluster cluster, string account) =>
        (await cluster.Sdk.GetAccountAsync(account))?.Balance ?? 0;

    /// <summary>What the silos in this process add to <c>depin.slashes</c> (<c>depin_slashes_total</c>) while it listens, by reason.</summary>
    private sealed class Slashes : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _byReason = new(StringComparer.Ordinal);

        public Slashes()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == DePIN.Grains.Diagnostics.DePINMetrics.MeterName && instrument.Name == "depin.slashes")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "reason")
                    {
                        _byReason.AddOrUpdate((string)tag.Value!, value, (_, sum) => sum + value);
                    }
                }
            });
            _listener.Start();
        }

        public long Count(string reason) => _byReason.GetValueOrDefault(reason);

        public void Dispose() => _listener.Dispose();
    }
}
