using DePIN.Abstractions.Nodes;
using DePIN.Grains.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace DePIN.Grains.Tests;

/// <summary>The development silo's grain storage keeps the providers' contract: bytes through the storage serializer, ETags.</summary>
public sealed class ProcessGrainStorageTests
{
    private static readonly GrainId Node = GrainId.Create("node", "n1");

    private static ProcessGrainStorage Storage()
    {
        var services = new ServiceCollection().AddSerializer(s => s.AddAssembly(typeof(NodeState).Assembly)).BuildServiceProvider();
        return new ProcessGrainStorage(
            new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()), services.GetRequiredService<IActivatorProvider>());
    }

    private static GrainState<NodeState> State(NodeStatus status) => new(new NodeState { Status = status, PublicKey = [1, 2, 3] });

    /// <summary>A fresh store holding one node's state, written once, and that state as its writer holds it.</summary>
    private static async Task<(ProcessGrainStorage Storage, GrainState<NodeState> Written)> Written()
    {
        var storage = Storage();
        var written = State(NodeStatus.Online);
        await storage.WriteStateAsync("nodes", Node, written);
        return (storage, written);
    }

    private static async Task<GrainState<NodeState>> Read(ProcessGrainStorage storage, string name = "nodes")
    {
        var state = new GrainState<NodeState>();
        await storage.ReadStateAsync(name, Node, state);
        return state;
    }

    [Fact]
    public async Task A_written_state_reads_back_as_a_copy_with_its_etag_under_its_own_name_only()
    {
        var (storage, written) = await Written();
        var read = await Read(storage);
        var elsewhere = await Read(storage, "jobs");

        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.NotSame(written.State, read.State);
        Assert.Equal(NodeStatus.Online, read.State!.Status);
        Assert.Equal([1, 2, 3], read.State.PublicKey);
        Assert.Equal((false, null), (elsewhere.RecordExists, elsewhere.ETag));
    }

    [Fact]
    public async Task A_write_or_clear_with_a_stale_etag_is_refused_and_changes_nothing()
    {
        var (storage, first) = await Written();
        var stale = await Read(storage);
        await storage.WriteStateAsync("nodes", Node, first); // the first writer moves on
        stale.State!.Status = NodeStatus.Suspect;
        var newcomer = State(NodeStatus.Offline); // never read: no ETag

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("nodes", Node, stale));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("nodes", Node, newcomer));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("nodes", Node, stale));

        var read = await Read(storage);
        Assert.Equal((NodeStatus.Online, first.ETag), (read.State!.Status, read.ETag));
    }

    [Fact]
    public async Task A_cleared_state_reads_as_new_and_can_be_written_again_from_scratch()
    {
        var (storage, state) = await Written();
        await storage.ClearStateAsync("nodes", Node, state);

        var read = await Read(storage);
        Assert.Equal((false, null, false), (state.RecordExists, state.ETag, read.RecordExists));
        Assert.Equal((null, null), (read.ETag, read.State!.PublicKey));

        await storage.WriteStateAsync("nodes", Node, read);
        Assert.NotNull(read.ETag);
    }
}
