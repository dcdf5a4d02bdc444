namespace DePIN.Core.Datasets;

/// <summary>
/// Inclusion and consistency proofs of RFC 6962 §2.1 (RFC 9162 §2.1.3–2.1.4). Building a proof names the leaf ranges
/// whose hashes it lists (<see cref="InclusionRanges"/>, <see cref="ConsistencyRanges"/>); whoever holds the leaves
/// hashes them (<see cref="MerkleNode.Cover"/> breaks each into perfect subtrees). Verifying needs only the proof,
/// the sizes and the roots.
/// </summary>
public static class MerkleProof
{
    /// <summary>Most hashes a proof can hold: one per level of a 2^63-leaf tree, and one more for consistency.</summary>
    public const int MaxHashes = 64;

    /// <summary>
    /// RFC 6962 PATH(m, D[n]): the leaf ranges whose hashes prove leaf <paramref name="index"/> in a tree of
    /// <paramref name="size"/> leaves, nearest the leaf first.
    /// </summary>
    public static List<(long Start, long End)> InclusionRanges(long index, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);
        var ranges = new List<(long, long)>();
        long start = 0, end = size, m = index;
        while (end - start > 1)
        {
            var k = MerkleNode.Split(end - start);
            if (m - start < k)
            {
                ranges.Add((start + k, end));
                end = start + k;
            }
            else
            {
                ranges.Add((start, start + k));
                start += k;
            }
        }

        ranges.Reverse();
        return ranges;
    }

    /// <summary>
    /// RFC 6962 PROOF(m, D[n]): the leaf ranges whose hashes prove that the tree of <paramref name="first"/> leaves is
    /// a prefix of the tree of <paramref name="second"/>, in the RFC's order. Empty when the sizes are equal or the
    /// first tree is empty.
    /// </summary>
    public static List<(long Start, long End)> ConsistencyRanges(long first, long second)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(first, second);
        var ranges = new List<(long, long)>();
        if (first == 0 || first == second)
        {
            return ranges;
        }

        // SUBPROOF(m, D[start:end], b), unrolled: each step adds one sibling range, to be listed after the deeper ones.
        long start = 0, end = second, m = first;
        var whole = true;
        while (m != end)
        {
            var k = MerkleNode.Split(end - start);
            if (m - start <= k)
            {
                ranges.Add((start + k, end));
                end = start + k;
            }
            else
            {
                ranges.Add((start, start + k));
                start += k;
                whole = false;
            }
        }

        if (!whole)
        {
            ranges.Add((start, end));
        }

        ranges.Reverse();
        return ranges;
    }

    /// <summary>While the node is a left child (and not the root), climbs: a right sibling it lacks contributes nothing.</summary>
    private static void ClimbLeftEdge(ref long fn, ref long sn)
    {
        while ((fn & 1) == 0 && fn != 0)
        {
            fn >>= 1;
            sn >>= 1;
        }
    }

    /// <summary>RFC 9162 §2.1.3.2: whether <paramref name="proof"/> shows the leaf at <paramref name="index"/> under <paramref name="root"/>.</summary>
    public static bool VerifyInclusion(ReadOnlySpan<byte> leafHash, long index, long size, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        if (index < 0 || index >= size || proof.Count > MaxHashes || leafHash.Length != MerkleHash.Size || root.Length != MerkleHash.Size)
        {
            return false;
        }

        long fn = index, sn = size - 1;
        var r = leafHash.ToArray();
        foreach (var p in proof)
        {
            if (sn == 0 || p.Length != MerkleHash.Size)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = MerkleHash.Node(p, r);
                ClimbLeftEdge(ref fn, ref sn);
            }
            else
            {
                r = MerkleHash.Node(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && r.AsSpan().SequenceEqual(root);
    }

    /// <summary>
    /// RFC 9162 §2.1.4.2: whether <paramref name="proof"/> shows that the tree of <paramref name="first"/> leaves with
    /// <paramref name="firstRoot"/> is a prefix of the tree of <paramref name="second"/> leaves with <paramref name="secondRoot"/>.
    /// </summary>
    public static bool VerifyConsistency(long first, long second, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> firstRoot, ReadOnlySpan<byte> secondRoot)
    {
        if (first < 0 || first > second || proof.Count > MaxHashes || firstRoot.Length != MerkleHash.Size || secondRoot.Length != MerkleHash.Size)
        {
            return false;
        }

        if (first == second)
        {
            return proof.Count == 0 && firstRoot.SequenceEqual(secondRoot);
        }

        if (first == 0)
        {
            // Every tree extends the empty one.
            return proof.Count == 0 && firstRoot.SequenceEqual(MerkleHash.Empty);
        }

        if (proof.Count == 0 || proof.Any(p => p.Length != MerkleHash.Size))
        {
            return false;
        }

        var path = (first & (first - 1)) == 0 ? [firstRoot.ToArray(), .. proof] : proof;
        long fn = first - 1, sn = second - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        byte[] fr = path[0], sr = path[0];
        for (var i = 1; i < path.Count; i++)
        {
            var c = path[i];
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                fr = MerkleHash.Node(c, fr);
                sr = MerkleHash.Node(c, sr);
                ClimbLeftEdge(ref fn, ref sn);
            }
            else
            {
                sr = MerkleHash.Node(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && fr.AsSpan().SequenceEqual(firstRoot) && sr.AsSpan().SequenceEqual(secondRoot);
    }
}
