using System.Globalization;
using System.Reflection;
using DePIN.Abstractions.Telemetry;
using DePIN.Grains.Jobs;
using DePIN.Grains.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace DePIN.Grains.Tests;

/// <summary>
/// The provider writes the state as it was when the grain asked, whatever the grain's next turns change while the
/// provider waits for its connection (Orleans' ADO.NET provider serializes only after that wait).
/// </summary>
public sealed class SnapshotGrainStorageTests
{
    private static readonly GrainId Node = GrainId.Create("node", "n1");
    private static readonly IServiceProvider Services =
        new ServiceCollection().AddSerializer(s => s.AddAssembly(typeof(NodeState).Assembly)).BuildServiceProvider();

    private static NodeState Accepted(long batches) =>
        new() { LastSequence = batches, Counters = TelemetryCounters.Zero with { Accepted = batches } };

    [Fact]
    public async Task A_batch_applied_while_the_provider_opens_its_connection_is_not_in_the_state_it_writes()
    {
        var (provider, direct) = (new OpensThenSerializes(), new OpensThenSerializes());
        var storage = new SnapshotGrainStorage(provider, Services.GetRequiredService<DeepCopier>());
        var (grain, unguarded) = (new GrainState<NodeState>(Accepted(5)), new GrainState<NodeState>(Accepted(5)));

        var writing = storage.WriteStateAsync("nodes", Node, grain);
        var writingDirectly = direct.WriteStateAsync("nodes", Node, unguarded);
        grain.State!.LastSequence = 6; // the next turn applies batch 6 while the write waits
        unguarded.State!.LastSequence = 6;

        provider.Open();
        direct.Open();
        await Task.WhenAll(writing, writingDirectly);

        var written = provider.Read<NodeState>();
        Assert.Equal((5, 5), (written.LastSequence, written.Counters.Accepted));
        Assert.Equal((6, 5), (direct.Read<NodeState>().LastSequence, direct.Read<NodeState>().Counters.Accepted)); // torn without the copy
        Assert.Equal(("2", true), (grain.ETag, grain.RecordExists)); // the grain holds the written version
        Assert.Equal(6, grain.State!.LastSequence); // and its own state, not the copy
    }

    [Fact]
    public async Task A_queue_changed_during_the_write_is_written_as_it_was()
    {
        var provider = new OpensThenSerializes();
        var storage = new SnapshotGrainStorage(provider, Services.GetRequiredService<DeepCopier>());
        var grain = new GrainState<SchedulerState>(new SchedulerState { Rates = { ["eu/cpu"] = 5 } }, "7");

        var writing = storage.WriteStateAsync("jobs", Node, grain);
        grain.State!.Rates["eu/cpu"] = 6;
        grain.State.Rates["us/gpu"] = 9;
        provider.Open();
        await writing;

        Assert.Equal([("eu/cpu", 5L)], provider.Read<SchedulerState>().Rates.Select(r => (r.Key, r.Value)));
        Assert.Equal("1", grain.ETag);
    }

    [Fact]
    public async Task Overlapping_writes_of_one_activation_go_one_after_another_from_the_version_the_first_wrote()
    {
        var provider = new OpensThenSerializes();
        var storage = new SnapshotGrainStorage(provider, Services.GetRequiredService<DeepCopier>());
        var grain = new GrainState<NodeState>(Accepted(5), "1");

        var first = storage.WriteStateAsync("nodes", Node, grain); // a checkpoint, waiting for its connection
        grain.State!.LastSequence = 6;
        var second = storage.WriteStateAsync("nodes", Node, grain); // a status change, in an interleaved turn
        provider.Open();
        await Task.WhenAll(first, second);

        Assert.Equal([("1", 5L), ("2", 6L)], provider.Writes); // each from the version before it, the second with the change
        Assert.Equal("3", grain.ETag);
    }

    [Fact]
    public async Task A_write_refused_for_its_version_deactivates_the_writing_activation()
    {
        var activation = DispatchProxy.Create<IGrainContext, Recorder>();
        var storage = new SnapshotGrainStorage(new WrittenByAnother(), Services.GetRequiredService<DeepCopier>(), new Accessor(activation));
        var grain = new GrainState<NodeState>(Accepted(5), "3");

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("nodes", Node, grain));

        var (method, reason) = ((Recorder)(object)activation).Calls.Single();
        Assert.Equal((nameof(IGrainContext.Deactivate), DeactivationReasonCode.ApplicationError), (method, ((DeactivationReason)reason!).ReasonCode));
        Assert.Equal("3", grain.ETag); // the grain keeps the version it read
    }

    private sealed class WrittenByAnother : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            throw new InconsistentStateException("written by another activation", "4", grainState.ETag);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;
    }

    private sealed class Accessor(IGrainContext activation) : IGrainContextAccessor
    {
        public IGrainContext GrainContext => activation;
    }

    /// <summary>An activation that records the calls made on it.</summary>
    public class Recorder : DispatchProxy
    {
        public List<(string Method, object? Argument)> Calls { get; } = [];

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            Calls.Add((targetMethod!.Name, args is { Length: > 0 } ? args[0] : null));
            return null;
        }
    }

    /// <summary>Like the ADO.NET provider: waits for its connection, then serializes the state it was given.</summary>
    private sealed class OpensThenSerializes : IGrainStorage
    {
        private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Serializer _serializer = Services.GetRequiredService<Serializer>();
        private byte[]? _written;

        /// <summary>Each write's version and the sequence it carried, in the order written.</summary>
        public List<(string? ETag, long LastSequence)> Writes { get; } = [];

        public void Open() => _opened.SetResult();

        public T Read<T>() => _serializer.Deserialize<T>(_written!) ?? throw new InvalidOperationException("nothing written");

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            await _opened.Task;
            _written = _serializer.SerializeToArray(grainState.State);
            if (grainState.State is NodeState node)
            {
                if (Writes.Count > 0 && grainState.ETag != (Writes.Count + 1).ToString(CultureInfo.InvariantCulture))
                {
                    throw new InconsistentStateException("stale version", (Writes.Count + 1).ToString(CultureInfo.InvariantCulture), grainState.ETag);
                }

                Writes.Add((grainState.ETag, node.LastSequence));
                (grainState.ETag, grainState.RecordExists) = ((Writes.Count + 1).ToString(CultureInfo.InvariantCulture), true);
                return;
            }

            (grainState.ETag, grainState.RecordExists) = ("1", true);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;
    }
}
