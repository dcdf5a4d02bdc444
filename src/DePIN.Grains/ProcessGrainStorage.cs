using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace DePIN.Grains;

/// <summary>
/// Grain state in the memory of this process, for the single development silo. Orleans' memory storage keeps state in
/// storage grains, which a stopping silo deactivates alongside every other grain; node grains that checkpoint as
/// they deactivate after them then fail to place one, and a busy silo logs hundreds of errors on its way out. A
/// dictionary outlives the grains. The contract is the one the real providers keep: state is stored as the grain
/// storage serializer's bytes (so a type that would not survive PostgreSQL does not survive here either), and a
/// write or clear whose ETag is not the stored one throws <see cref="InconsistentStateException"/> and changes nothing.
/// </summary>
public sealed class ProcessGrainStorage(IGrainStorageSerializer serializer, IActivatorProvider activators) : IGrainStorage
{
    private readonly Dictionary<(string StateName, GrainId GrainId), (BinaryData Data, string ETag)> _states = [];
    private long _version;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        (BinaryData Data, string ETag) stored;
        bool found;
        lock (_states)
        {
            found = _states.TryGetValue((stateName, grainId), out stored);
        }

        grainState.State = (found ? serializer.Deserialize<T>(stored.Data) : default) ?? activators.GetActivator<T>().Create();
        grainState.ETag = found ? stored.ETag : null;
        grainState.RecordExists = found;
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var data = serializer.Serialize(grainState.State);
        lock (_states)
        {
            Check((stateName, grainId), grainState.ETag);
            var etag = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _states[(stateName, grainId)] = (data, etag);
            grainState.ETag = etag;
        }

        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        lock (_states)
        {
            Check((stateName, grainId), grainState.ETag);
            _states.Remove((stateName, grainId));
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = activators.GetActivator<T>().Create();
        return Task.CompletedTask;
    }

    /// <summary>Throws unless <paramref name="etag"/> is the stored one (null when nothing is stored). Call under the lock.</summary>
    private void Check((string StateName, GrainId GrainId) key, string? etag)
    {
        var stored = _states.TryGetValue(key, out var state) ? state.ETag : null;
        if (!string.Equals(stored, etag, StringComparison.Ordinal))
        {
            throw new InconsistentStateException($"The {key.StateName} state of {key.GrainId} was written by someone else (stored ETag {stored ?? "none"}, given {etag ?? "none"}).", stored, etag);
        }
    }
}
