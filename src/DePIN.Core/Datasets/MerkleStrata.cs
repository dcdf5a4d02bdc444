namespace DePIN.Core.Datasets;

/// <summary>
/// Which subtree hashes a log stores so that any proof costs few reads: the leaves, and the perfect subtrees at every
/// <see cref="Stride"/>-th level (256 leaves, 65,536, …), written as <see cref="CompactFrontier.Append"/> completes
/// them. Any other perfect subtree is the fold of at most 2^Stride stored hashes below it, so a proof in a log of
/// a million leaves reads a few thousand hashes in one range per proof hash, however old the leaf.
/// </summary>
public static class MerkleStrata
{
    public const int Stride = 8;

    /// <summary>Whether a completed node at this level is stored (leaves are stored with their records).</summary>
    public static bool IsStored(int level) => level > 0 && level % Stride == 0;

    /// <summary>The stored hashes that make up <paramref name="node"/>: a run at the stored level at or below it.</summary>
    public static (int Level, long From, int Count) Under(MerkleNode node)
    {
        var level = node.Level - (node.Level % Stride);
        var below = node.Level - level;
        return (level, node.Index << below, 1 << below);
    }

    /// <summary>Hashes a run of 2^k sibling hashes, as <see cref="Under"/> names them, up to the node above them.</summary>
    public static byte[] Combine(IReadOnlyList<byte[]> run)
    {
        if (run.Count == 0 || (run.Count & (run.Count - 1)) != 0)
        {
            throw new ArgumentException($"A run of {run.Count} hashes is not a perfect subtree.", nameof(run));
        }

        var level = run.ToArray();
        for (var width = level.Length; width > 1; width /= 2)
        {
            for (var i = 0; i < width / 2; i++)
            {
                level[i] = MerkleHash.Node(level[2 * i], level[(2 * i) + 1]);
            }
        }

        return level[0];
    }

    /// <summary>
    /// The proof hashes for <paramref name="ranges"/> (from <see cref="MerkleProof"/>), reading stored hashes with
    /// <paramref name="read"/>(level, from, count), which must return exactly that many hashes in order.
    /// </summary>
    public static async Task<byte[][]> Resolve(
        IReadOnlyList<(long Start, long End)> ranges,
        Func<int, long, int, CancellationToken, Task<IReadOnlyList<byte[]>>> read,
        CancellationToken cancellationToken = default)
    {
        var proof = new byte[ranges.Count][];
        for (var i = 0; i < ranges.Count; i++)
        {
            var subtrees = new List<byte[]>();
            foreach (var node in MerkleNode.Cover(ranges[i].Start, ranges[i].End))
            {
                var (level, from, count) = Under(node);
                var run = await read(level, from, count, cancellationToken);
                if (run.Count != count)
                {
                    throw new InvalidOperationException($"The log returned {run.Count} hashes at level {level} from {from}, not {count}.");
                }

                subtrees.Add(Combine(run));
            }

            proof[i] = CompactFrontier.Fold(subtrees);
        }

        return proof;
    }
}
