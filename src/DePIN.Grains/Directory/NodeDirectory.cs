using DePIN.Abstractions;

namespace DePIN.Grains.Directory;

/// <summary>How the node directory is sharded: by region, then by a stable hash of the node id.</summary>
public static class NodeDirectory
{
    /// <summary>Shards per region. Changing it orphans existing entries: it is part of the data layout.</summary>
    public const int ShardsPerRegion = 16;

    public static string ShardKey(string region, string nodeId) => $"{region}/{PartitionHash.Fnv1a(nodeId) % ShardsPerRegion}";

    public static IEnumerable<string> ShardKeys(string region) =>
        Enumerable.Range(0, ShardsPerRegion).Select(i => $"{region}/{i}");
}
