using DePIN.Abstractions;
using DePIN.Abstractions.Jobs;
using DePIN.Grains.Jobs;

namespace DePIN.Grains.Tests;

public sealed class GrainRefsTests
{
    [Fact]
    public async Task Cached_references_equal_the_ones_Orleans_builds_and_reach_the_same_grains()
    {
        await using var cluster = await NodeCluster.Start();
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
