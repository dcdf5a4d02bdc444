using DePIN.Abstractions.Jobs;
using DePIN.Grains.Jobs;

namespace DePIN.Grains.Tests;

/// <summary>The scheduler's allocation ledger across a change of its shard count.</summary>
public sealed class AllocationLedgerTests
{
    private static Allocation On(string node, int attempt = 0) => new([node], new ReplicaResources(1, 1L << 30, 0, 0), 0, attempt);

    [Fact]
    public async Task Allocations_recorded_outside_their_home_shard_load_and_move_home_so_a_release_finds_them()
    {
        await using var cluster = await NodeCluster.Start();
        var grains = cluster.Client;
        // Where a smaller shard count put them: any shard but the key's home under the current count.
        var stray = grains.GetGrain<IAllocationLedgerGrain>((AllocationLedger.Home("acme/old") + 1) % AllocationLedger.Shards);
        await stray.Record("acme/old", On("node-a"));
        await stray.Record("acme/both", On("node-b"));
        await AllocationLedger.Shard(grains, "acme/both").Record("acme/both", On("node-c", attempt: 1));
        await AllocationLedger.Shard(grains, "acme/home").Record("acme/home", On("node-d"));

        var loaded = await AllocationLedger.Load(grains);

        Assert.Equal(["acme/both", "acme/home", "acme/old"], loaded.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("node-a", loaded["acme/old"].Nodes.Single());
        Assert.Equal("node-c", loaded["acme/both"].Nodes.Single()); // the home shard's row is the later one
        Assert.Empty(await stray.All());
        Assert.Equal("node-a", (await AllocationLedger.Shard(grains, "acme/old").All())["acme/old"].Nodes.Single());

        // Released as the scheduler releases: through the home shard. Nothing is left behind anywhere.
        await AllocationLedger.Shard(grains, "acme/old").Remove("acme/old");
        Assert.Equal(["acme/both", "acme/home"], (await AllocationLedger.Load(grains)).Keys.Order(StringComparer.Ordinal));
    }
}
