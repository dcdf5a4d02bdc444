using System.Numerics;

namespace DePIN.Core.Datasets;

/// <summary>
/// The compact state of an append-only Merkle log: the roots of the perfect subtrees that cover its leaves, one per
/// set bit of the size, largest first. That is at most 64 hashes however long the log, enough to append and to
/// compute the root; everything else lives with the leaves.
/// </summary>
public sealed class CompactFrontier
{
    private readonly List<byte[]> _hashes;

    public CompactFrontier()
        : this(0, [])
    {
    }

    private CompactFrontier(long size, List<byte[]> hashes)
    {
        Size = size;
        _hashes = hashes;
    }

    public long Size { get; private set; }

    /// <summary>Subtree roots, largest first.</summary>
    public IReadOnlyList<byte[]> Hashes => _hashes;

    /// <summary>The subtrees <see cref="Hashes"/> stand for, largest first.</summary>
    public IEnumerable<MerkleNode> Nodes => MerkleNode.Cover(0, Size);

    /// <summary>Restores a frontier saved as its size and hashes; null when they do not fit together.</summary>
    public static CompactFrontier? Restore(long size, IReadOnlyList<byte[]> hashes)
    {
        if (size < 0 || hashes.Count != BitOperations.PopCount((ulong)size) || hashes.Any(h => h.Length != MerkleHash.Size))
        {
            return null;
        }

        return new CompactFrontier(size, [.. hashes.Select(h => h.ToArray())]);
    }

    /// <summary>
    /// Appends a leaf hash. <paramref name="completed"/> hears every interior node the leaf completes, lowest first,
    /// for a store that keeps some levels.
    /// </summary>
    public void Append(byte[] leafHash, Action<MerkleNode, byte[]>? completed = null)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(leafHash.Length, MerkleHash.Size);
        var hash = leafHash;
        var index = Size;
        for (var level = 1; (index & 1) == 1; level++)
        {
            hash = MerkleHash.Node(_hashes[^1], hash);
            _hashes.RemoveAt(_hashes.Count - 1);
            index >>= 1;
            completed?.Invoke(new MerkleNode(level, index), hash);
        }

        _hashes.Add(hash);
        Size++;
    }

    /// <summary>The tree head's root hash (RFC 6962 MTH) of the leaves appended so far.</summary>
    public byte[] Root() => Fold(_hashes);

    public CompactFrontier Clone() => new(Size, [.. _hashes]);

    /// <summary>The hash of consecutive perfect subtrees, largest first: each joins the fold of those to its right.</summary>
    public static byte[] Fold(IReadOnlyList<byte[]> subtrees)
    {
        if (subtrees.Count == 0)
        {
            return MerkleHash.Empty.ToArray();
        }

        var hash = subtrees[^1];
        for (var i = subtrees.Count - 2; i >= 0; i--)
        {
            hash = MerkleHash.Node(subtrees[i], hash);
        }

        return hash;
    }
}
