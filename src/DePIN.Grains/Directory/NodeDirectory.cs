using System.Text;

namespace DePIN.Grains.Directory;

/// <summary>How the node directory is sharded: by region, then by a stable hash of the node id.</summary>
public static class NodeDirectory
{
    /// <summary>Shards per region. Changing it orphans existing entries: it is part of the data layout.</summary>
    public const int ShardsPerRegion = 16;

    public static string ShardKey(string region, string nodeId) => $"{region}/{Fnv1a(nodeId) % ShardsPerRegion}";

    public static IEnumerable<string> ShardKeys(string region) =>
        Enumerable.Range(0, ShardsPerRegion).Select(i => $"{region}/{i}");

    // FNV-1a: stable across processes and versions, unlike string.GetHashCode.
    private static uint Fnv1a(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash;
    }
}
