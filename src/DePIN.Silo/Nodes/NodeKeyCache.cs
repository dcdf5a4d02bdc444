using System.Collections.Concurrent;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Identity;
using NSec.Cryptography;

namespace DePIN.Silo.Nodes;

/// <summary>
/// Public keys of registered nodes, imported once per silo. A node id is derived from its key, so a cached key can
/// never go stale: the first lookup asks the node's grain, every later one is a dictionary hit.
/// </summary>
public sealed class NodeKeyCache(IGrainFactory grains)
{
    private readonly ConcurrentDictionary<string, PublicKey> _keys = new(StringComparer.Ordinal);

    /// <summary>The node's key, or null when no node with that id is registered.</summary>
    public async ValueTask<PublicKey?> Find(string nodeId)
    {
        if (_keys.TryGetValue(nodeId, out var key))
        {
            return key;
        }

        var raw = await grains.GetGrain<INodeGrain>(nodeId).GetPublicKey();
        if (raw is null || NodeIdentity.TryImportPublicKey(raw) is not { } imported)
        {
            return null;
        }

        return _keys.GetOrAdd(nodeId, imported);
    }

    public void Remember(string nodeId, PublicKey key) => _keys.TryAdd(nodeId, key);
}
