using System.Numerics;

namespace DePIN.Core.Datasets;

/// <summary>
/// A perfect subtree of a Merkle log: the 2^<see cref="Level"/> leaves from <see cref="Index"/>·2^Level on. Level 0
/// is a leaf. Every hash a proof needs is a fold of such nodes, so a store that can answer them can serve any proof.
/// </summary>
public readonly record struct MerkleNode(int Level, long Index)
{
    public long Start => Index << Level;

    public long Width => 1L << Level;

    /// <summary>
    /// The perfect subtrees whose fold is the hash of the leaves [<paramref name="start"/>, <paramref name="end"/>),
    /// largest first. Valid for the ranges RFC 6962's recursion produces: <paramref name="start"/> is a multiple of a
    /// power of two at least as large as the range.
    /// </summary>
    public static IEnumerable<MerkleNode> Cover(long start, long end)
    {
        var at = start;
        while (at < end)
        {
            var level = 63 - BitOperations.LeadingZeroCount((ulong)(end - at));
            yield return new MerkleNode(level, at >> level);
            at += 1L << level;
        }
    }

    /// <summary>The largest power of two strictly below <paramref name="n"/> (n ≥ 2): where RFC 6962 splits a tree.</summary>
    public static long Split(long n) => 1L << (63 - BitOperations.LeadingZeroCount((ulong)(n - 1)));
}
