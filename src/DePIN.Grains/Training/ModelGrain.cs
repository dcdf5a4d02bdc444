using DePIN.Abstractions;
using DePIN.Abstractions.Training;

namespace DePIN.Grains.Training;

[GenerateSerializer, Alias("DePIN.ModelState")]
public sealed class ModelState
{
    [Id(0)] public ModelVersion? Version { get; set; }
}

/// <summary>A model version in the registry, keyed by its weights' hash; written once.</summary>
public sealed class ModelGrain([PersistentState("model", StorageNames.Jobs)] IPersistentState<ModelState> state) : Grain, IModelGrain
{
    public async Task Register(ModelVersion version)
    {
        if (version.Hash != this.GetPrimaryKeyString())
        {
            throw new ArgumentException($"Version {version.Hash} registered under {this.GetPrimaryKeyString()}.", nameof(version));
        }

        if (state.State.Version is null)
        {
            state.State.Version = version;
            await state.WriteStateAsync();
        }
    }

    public ValueTask<ModelVersion?> Get() => ValueTask.FromResult(state.State.Version);
}
