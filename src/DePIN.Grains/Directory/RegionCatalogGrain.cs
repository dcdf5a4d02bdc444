using DePIN.Abstractions;
using DePIN.Abstractions.Nodes;

namespace DePIN.Grains.Directory;

[GenerateSerializer, Alias("DePIN.RegionCatalogState")]
public sealed class RegionCatalogState
{
    [Id(0)] public SortedSet<string> Regions { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The set of regions that have nodes, so a fleet-wide listing knows which shards to ask.</summary>
public sealed class RegionCatalogGrain(
    [PersistentState("regions", StorageNames.Directory)] IPersistentState<RegionCatalogState> state)
    : Grain, IRegionCatalogGrain
{
    private string[] _regions = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _regions = [.. state.State.Regions];
        return Task.CompletedTask;
    }

    public async Task Add(string region)
    {
        if (state.State.Regions.Add(region))
        {
            await state.WriteStateAsync();
            _regions = [.. state.State.Regions];
        }
    }

    public ValueTask<string[]> GetRegions() => ValueTask.FromResult(_regions);
}
