using DePIN.Abstractions.Nodes;
using Orleans.Concurrency;

namespace DePIN.Grains.Directory;

/// <summary>Answers directory queries: asks the shards of the regions concerned and merges their ordered pages.</summary>
[StatelessWorker]
public sealed class NodeQueryGrain : Grain, INodeQueryGrain
{
    public async Task<NodeSummary[]> List(NodeQuery query)
    {
        string[] regions = query.Region is { } region
            ? [region]
            : await GrainFactory.GetGrain<IRegionCatalogGrain>(0).GetRegions();

        var pages = await Task.WhenAll(regions
            .SelectMany(NodeDirectory.ShardKeys)
            .Select(shard => GrainFactory.GetGrain<INodeDirectoryGrain>(shard).List(query).AsTask()));

        return pages
            .SelectMany(page => page)
            .OrderBy(node => node.NodeId, StringComparer.Ordinal)
            .Take(query.Limit)
            .ToArray();
    }
}
