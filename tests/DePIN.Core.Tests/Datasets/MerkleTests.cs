using System.Text.Json;
using DePIN.Core.Datasets;

namespace DePIN.Core.Tests.Datasets;

/// <summary>Against vectors computed by merkle_vectors.py straight from RFC 6962's recursive definitions.</summary>
public sealed class MerkleTests
{
    private static readonly Vectors Known = Vectors.Load();

    [Fact]
    public void The_root_after_each_append_matches_the_reference_and_the_empty_tree_hashes_the_empty_string()
    {
        var frontier = new CompactFrontier();
        Assert.Equal(Known.Roots[0], Hex(frontier.Root()));
        for (var n = 1; n < Known.Roots.Length; n++)
        {
            frontier.Append(MerkleHash.Leaf(Known.Leaves[n - 1]));
            Assert.Equal(Known.Roots[n], Hex(frontier.Root()));
        }

        // The Certificate Transparency test suite's root for its eight inputs.
        Assert.Equal("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328", Known.Roots[8]);
    }

    [Fact]
    public void A_saved_frontier_restores_to_the_same_log_and_a_mismatched_one_is_refused()
    {
        var frontier = Build(13);
        var restored = CompactFrontier.Restore(frontier.Size, frontier.Hashes)!;
        restored.Append(MerkleHash.Leaf(Known.Leaves[13]));

        Assert.Equal(Known.Roots[14], Hex(restored.Root()));
        Assert.Null(CompactFrontier.Restore(12, frontier.Hashes));
        Assert.Null(CompactFrontier.Restore(13, [.. frontier.Hashes.Take(2)]));
    }

    [Fact]
    public void Every_inclusion_proof_is_built_as_the_reference_builds_it_and_verifies()
    {
        var store = new MemoryLog(Known.Leaves);
        foreach (var v in Known.Inclusion)
        {
            var proof = store.Prove(MerkleProof.InclusionRanges(v.Index, v.Size));
            var leaf = MerkleHash.Leaf(Known.Leaves[v.Index]);
            var root = Convert.FromHexString(Known.Roots[v.Size]);

            Assert.Equal(v.Path, proof.Select(Hex));
            Assert.True(MerkleProof.VerifyInclusion(leaf, v.Index, v.Size, proof, root), $"leaf {v.Index} of {v.Size}");
        }
    }

    [Fact]
    public void Every_consistency_proof_is_built_as_the_reference_builds_it_and_verifies()
    {
        var store = new MemoryLog(Known.Leaves);
        foreach (var v in Known.Consistency)
        {
            var proof = store.Prove(MerkleProof.ConsistencyRanges(v.First, v.Second));
            var first = Convert.FromHexString(Known.Roots[v.First]);
            var second = Convert.FromHexString(Known.Roots[v.Second]);

            Assert.Equal(v.Proof, proof.Select(Hex));
            Assert.True(MerkleProof.VerifyConsistency(v.First, v.Second, proof, first, second), $"{v.First} → {v.Second}");
        }
    }

    [Fact]
    public void A_tampered_inclusion_proof_or_a_claim_about_another_leaf_or_size_fails()
    {
        var store = new MemoryLog(Known.Leaves);
        var proof = store.Prove(MerkleProof.InclusionRanges(5, 13));
        var leaf = MerkleHash.Leaf(Known.Leaves[5]);
        var root = Convert.FromHexString(Known.Roots[13]);
        var flipped = proof.Select(p => p.ToArray()).ToArray();
        flipped[1][7] ^= 0x01;

        Assert.True(MerkleProof.VerifyInclusion(leaf, 5, 13, proof, root));
        Assert.False(MerkleProof.VerifyInclusion(leaf, 5, 13, flipped, root));
        Assert.False(MerkleProof.VerifyInclusion(leaf, 4, 13, proof, root));
        // Sizes 9 to 16 give leaf 5 a path of the same shape, so only the signed head binds the size; 7 does not.
        Assert.False(MerkleProof.VerifyInclusion(leaf, 5, 7, proof, root));
        Assert.False(MerkleProof.VerifyInclusion(leaf, 5, 13, proof[..^1], root));
        Assert.False(MerkleProof.VerifyInclusion(leaf, 5, 13, [.. proof, proof[0]], root));
        Assert.False(MerkleProof.VerifyInclusion(MerkleHash.Leaf(Known.Leaves[6]), 5, 13, proof, root));
        Assert.False(MerkleProof.VerifyInclusion(leaf, 13, 13, proof, root));
    }

    [Fact]
    public void A_tampered_consistency_proof_or_a_forked_log_fails()
    {
        var store = new MemoryLog(Known.Leaves);
        var proof = store.Prove(MerkleProof.ConsistencyRanges(6, 15));
        var first = Convert.FromHexString(Known.Roots[6]);
        var second = Convert.FromHexString(Known.Roots[15]);
        var flipped = proof.Select(p => p.ToArray()).ToArray();
        flipped[0][0] ^= 0x80;

        // A log that rewrote leaf 3 after publishing the 6-leaf head.
        var forked = Known.Leaves.ToArray();
        forked[3] = [0xff];
        var forkedSecond = new MemoryLog(forked).Frontier(15).Root();
        var forkedProof = new MemoryLog(forked).Prove(MerkleProof.ConsistencyRanges(6, 15));

        Assert.True(MerkleProof.VerifyConsistency(6, 15, proof, first, second));
        Assert.False(MerkleProof.VerifyConsistency(6, 15, flipped, first, second));
        Assert.False(MerkleProof.VerifyConsistency(6, 15, forkedProof, first, forkedSecond));
        Assert.False(MerkleProof.VerifyConsistency(7, 15, proof, first, second));
        Assert.False(MerkleProof.VerifyConsistency(6, 15, [], first, second));
        Assert.True(MerkleProof.VerifyConsistency(15, 15, [], second, second));
        Assert.False(MerkleProof.VerifyConsistency(15, 15, [], first, second));
        Assert.True(MerkleProof.VerifyConsistency(0, 15, [], MerkleHash.Empty, second));
    }

    [Fact]
    public async Task Proofs_served_from_stored_strata_of_a_large_log_verify_and_match_the_fold_of_the_leaves()
    {
        const int size = 70_000;
        var leaves = Enumerable.Range(0, size).Select(i => BitConverter.GetBytes(i)).ToArray();
        var strata = new Dictionary<(int Level, long Index), byte[]>();
        var frontier = new CompactFrontier();
        foreach (var leaf in leaves)
        {
            var hash = MerkleHash.Leaf(leaf);
            strata[(0, frontier.Size)] = hash;
            frontier.Append(hash, (node, h) =>
            {
                if (MerkleStrata.IsStored(node.Level))
                {
                    strata[(node.Level, node.Index)] = h;
                }
            });
        }

        Task<IReadOnlyList<byte[]>> Read(int level, long from, int count, CancellationToken _) =>
            Task.FromResult<IReadOnlyList<byte[]>>([.. Enumerable.Range(0, count).Select(i => strata[(level, from + i)])]);

        Assert.Contains(strata.Keys, k => k.Level == 16);
        var root = frontier.Root();
        var full = new MemoryLog(leaves);
        foreach (var index in new long[] { 0, 255, 256, 65_535, 65_536, 69_999 })
        {
            var ranges = MerkleProof.InclusionRanges(index, size);
            var proof = await MerkleStrata.Resolve(ranges, Read, TestContext.Current.CancellationToken);
            Assert.Equal(full.Prove(ranges).Select(Hex), proof.Select(Hex));
            Assert.True(MerkleProof.VerifyInclusion(strata[(0, index)], index, size, proof, root));
        }

        var earlier = full.Frontier(40_000).Root();
        var consistency = await MerkleStrata.Resolve(MerkleProof.ConsistencyRanges(40_000, size), Read, TestContext.Current.CancellationToken);
        Assert.True(MerkleProof.VerifyConsistency(40_000, size, consistency, earlier, root));
    }

    private static CompactFrontier Build(int count) => new MemoryLog(Known.Leaves).Frontier(count);

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>A log held as its leaves; range hashes by the recursive definition, for reference.</summary>
    private sealed class MemoryLog(byte[][] leaves)
    {
        private readonly byte[][] _hashes = [.. leaves.Select(l => MerkleHash.Leaf(l))];

        public CompactFrontier Frontier(int count)
        {
            var frontier = new CompactFrontier();
            foreach (var hash in _hashes.Take(count))
            {
                frontier.Append(hash);
            }

            return frontier;
        }

        public byte[][] Prove(IEnumerable<(long Start, long End)> ranges) => [.. ranges.Select(r => Hash(r.Start, r.End))];

        private byte[] Hash(long start, long end)
        {
            if (end - start == 1)
            {
                return _hashes[start];
            }

            var k = MerkleNode.Split(end - start);
            return MerkleHash.Node(Hash(start, start + k), Hash(start + k, end));
        }
    }

    private sealed record Vectors(byte[][] Leaves, string[] Roots, Inclusion[] Inclusion, Consistency[] Consistency)
    {
        public static Vectors Load()
        {
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Datasets", "merkle-vectors.json")));
            var root = json.RootElement;
            return new Vectors(
                [.. root.GetProperty("leaves").EnumerateArray().Select(e => Convert.FromHexString(e.GetString()!))],
                [.. root.GetProperty("roots").EnumerateArray().Select(e => e.GetString()!)],
                [.. root.GetProperty("inclusion").EnumerateArray().Select(e => new Inclusion(
                    e.GetProperty("index").GetInt32(), e.GetProperty("size").GetInt32(),
                    [.. e.GetProperty("path").EnumerateArray().Select(p => p.GetString()!)]))],
                [.. root.GetProperty("consistency").EnumerateArray().Select(e => new Consistency(
                    e.GetProperty("first").GetInt32(), e.GetProperty("second").GetInt32(),
                    [.. e.GetProperty("proof").EnumerateArray().Select(p => p.GetString()!)]))]);
        }
    }

    private sealed record Inclusion(int Index, int Size, string[] Path);

    private sealed record Consistency(int First, int Second, string[] Proof);
}
