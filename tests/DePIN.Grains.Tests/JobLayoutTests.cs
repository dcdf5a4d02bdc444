using DePIN.Abstractions;
using DePIN.Abstractions.Jobs;
using DePIN.Grains.Jobs;
using DePIN.Testing;
using Orleans.Core.Internal;

namespace DePIN.Grains.Tests;

/// <summary>
/// The job path's durable layout: the allocation ledger and the tenant job index across a change of their shard
/// counts, and the cached grain references that reach them.
/// </summary>
public sealed class JobLayoutTests(NodeCluster cluster) : IClassFixture<NodeCluster>
{
    private static Allocation On(string node, int attempt = 0) => new([node], new ReplicaResources(1, 1L << 30, 0, 0), 0, attempt);

    [Fact]
    public async Task Allocations_recorded_outside_their_home_shard_load_and_move_home_so_a_release_finds_them()
    {
        var grains = cluster.Client;
        // The ledger is the cluster's: this test's rows are those of its own tenant.
        static Dictionary<string, Allocation> Mine(Dictionary<string, Allocation> all) =>
            all.Where(a => a.Key.StartsWith("layout/", StringComparison.Ordinal)).ToDictionary();
        // Where a smaller shard count put them: any shard but the key's home under the current count.
        var stray = grains.GetGrain<IAllocationLedgerGrain>((AllocationLedger.Home("layout/old") + 1) % AllocationLedger.Shards);
        await stray.Record("layout/old", On("node-a"));
        await stray.Record("layout/both", On("node-b"));
        await AllocationLedger.Shard(grains, "layout/both").Record("layout/both", On("node-c", attempt: 1));
        await AllocationLedger.Shard(grains, "layout/home").Record("layout/home", On("node-d"));

        var loaded = Mine(await AllocationLedger.Load(grains));

        Assert.Equal(["layout/both", "layout/home", "layout/old"], loaded.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("node-a", loaded["layout/old"].Nodes.Single());
        Assert.Equal("node-c", loaded["layout/both"].Nodes.Single()); // the home shard's row is the later one
        Assert.Empty(await stray.All());
        Assert.Equal("node-a", (await AllocationLedger.Shard(grains, "layout/old").All())["layout/old"].Nodes.Single());

        // Released as the scheduler releases: through the home shard. Nothing is left behind anywhere.
        await AllocationLedger.Shard(grains, "layout/old").Remove("layout/old", loaded["layout/old"].Attempt);
        Assert.Equal(["layout/both", "layout/home"], Mine(await AllocationLedger.Load(grains)).Keys.Order(StringComparer.Ordinal));

        // The removal of an earlier attempt's record, arriving after the next attempt was recorded, leaves the next one.
        await AllocationLedger.Shard(grains, "layout/both").Remove("layout/both", attempt: 0);
        Assert.Equal(["layout/both", "layout/home"], Mine(await AllocationLedger.Load(grains)).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Rows_written_under_an_earlier_shard_count_move_home_and_list_once_as_their_latest_version()
    {
        var grains = cluster.Client;
        var at = DateTimeOffset.UnixEpoch;
        JobSummary Row(string id, JobStatus status, int minute) => new(id, "acme", JobKind.Batch, status, at, at.AddMinutes(minute));

        // Where the old layout (16 shards) put them: a shard that is neither row's home now.
        var ids = new[] { "job-a", "job-b" };
        var strayShard = Enumerable.Range(0, TenantJobs.Shards).First(i => ids.All(id => TenantJobs.Home(id) != i));
        var stray = grains.GetGrain<ITenantJobsGrain>(TenantJobs.ShardKey("acme", strayShard));
        await stray.Upsert(Row("job-a", JobStatus.Running, 1));
        await stray.Upsert(Row("job-b", JobStatus.Queued, 1));
        // job-b has changed since, under the new layout: its home shard holds the later row.
        await TenantJobs.Shard(grains, "acme", "job-b").Upsert(Row("job-b", JobStatus.Succeeded, 2));

        // The old shard is read again as after a restart: it finds rows that are not its own.
        await stray.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var listed = await TenantJobs.List(grains, "acme", new JobQuery(null, null, 10));

        Assert.Equal([("job-a", JobStatus.Running), ("job-b", JobStatus.Succeeded)], listed.Select(j => (j.JobId, j.Status)));
        await Wait.Until(async () => await stray.List(new JobQuery(null, null, 10)), rows => rows.Length == 0, "the old shard to hand its rows home");
        Assert.Equal(JobStatus.Running, (await TenantJobs.Shard(grains, "acme", "job-a").List(new JobQuery(null, null, 10))).Single().Status);
        Assert.Equal(JobStatus.Succeeded, (await TenantJobs.Shard(grains, "acme", "job-b").List(new JobQuery(null, null, 10))).Single().Status);
        Assert.Equal(2, (await TenantJobs.List(grains, "acme", new JobQuery(null, null, 10))).Length);
    }

    [Fact]
    public async Task Cached_references_equal_the_ones_Orleans_builds_and_reach_the_same_grains()
    {
        var grains = cluster.Client;

        Assert.Equal(grains.GetGrain<IJobGrain>("acme/job-1"), grains.Ref<IJobGrain>("acme/job-1"));
        Assert.NotEqual(grains.GetGrain<IJobGrain>("acme/job-1"), grains.Ref<IJobGrain>("acme/job-2"));
        Assert.Equal(grains.GetGrain<IAllocationLedgerGrain>(7), grains.Ref<IAllocationLedgerGrain>(7));
        Assert.Equal(grains.GetGrain<ITenantJobsGrain>("acme/3"), grains.Ref<ITenantJobsGrain>("acme/3"));

        var allocation = new Allocation(["node-a"], new ReplicaResources(1, 1L << 30, 0, 0), 0, 0);
        await grains.Ref<IAllocationLedgerGrain>(7).Record("acme/job-1", allocation);
        Assert.Equal("node-a", (await grains.GetGrain<IAllocationLedgerGrain>(7).All())["acme/job-1"].Nodes.Single());
    }
}
