using Orleans.Serialization;
using Orleans.Storage;

namespace DePIN.Grains;

/// <summary>
/// Hands a grain storage provider a copy of the state, taken in the grain's own turn, to write. Orleans' ADO.NET
/// provider serializes the state only once its connection is open, on a thread-pool thread after an
/// <c>await ... ConfigureAwait(false)</c>; a reentrant grain, or one whose checkpoint timer interleaves, runs its next
/// turn meanwhile and changes the state under the serializer. That wrote torn states (a node's watermark past a batch
/// its counters did not hold, so the batch was neither counted nor replayed) and can throw on a dictionary changed
/// while it is read. The copy is Orleans' deep copy: immutable members are shared, mutable ones copied.
/// </summary>
public sealed class SnapshotGrainStorage(IGrainStorage inner, DeepCopier copier) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var snapshot = new GrainState<T>(copier.Copy(grainState.State), grainState.ETag) { RecordExists = grainState.RecordExists };
        await inner.WriteStateAsync(stateName, grainId, snapshot);
        grainState.ETag = snapshot.ETag;
        grainState.RecordExists = snapshot.RecordExists;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);

    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);
}
