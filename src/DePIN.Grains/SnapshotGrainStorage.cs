using System.Runtime.CompilerServices;
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
/// Writes of one activation's state go one after another, each from the version the one before it wrote.
/// A write refused for its version (<see cref="InconsistentStateException"/>) means another activation of the grain
/// wrote since this one read: while the cluster's membership changes Orleans may briefly run two. The stale one is
/// deactivated, so that the next call finds the grain as stored rather than an activation whose writes all fail or,
/// worse, one that acts on what it holds in memory (a scheduler placing from a queue without the other's jobs).
/// </summary>
public sealed class SnapshotGrainStorage(IGrainStorage inner, DeepCopier copier, IGrainContextAccessor? activations = null)
    : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly ConditionalWeakTable<object, Task> _writes = [];

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // One write of a state at a time, each from the version the one before it wrote: an activation whose writes
        // overlap (a reentrant grain, an interleaved timer, an AlwaysInterleave method) is not another activation.
        var write = _writes.TryGetValue(grainState, out var previous) && !previous.IsCompleted
            ? WriteAfter(previous, stateName, grainId, grainState)
            : Write(stateName, grainId, grainState);
        _writes.AddOrUpdate(grainState, write);
        return write;
    }

    private async Task WriteAfter<T>(Task previous, string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        try
        {
            await previous; // resumes in the grain's turn, so the copy below is still taken there
        }
        catch
        {
            // That write's caller saw its failure; this one carries every change since.
        }

        await Write(stateName, grainId, grainState);
    }

    private async Task Write<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var activation = activations?.GrainContext; // the writer, asked in its own turn
        var snapshot = new GrainState<T>(copier.Copy(grainState.State), grainState.ETag) { RecordExists = grainState.RecordExists };
        try
        {
            await inner.WriteStateAsync(stateName, grainId, snapshot);
        }
        catch (InconsistentStateException) when (activation is not null)
        {
            activation.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationError,
                $"Its {stateName} state was written by another activation since this one read it."));
            throw;
        }

        grainState.ETag = snapshot.ETag;
        grainState.RecordExists = snapshot.RecordExists;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);

    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);
}
