using DePIN.Abstractions.Datasets;
using DePIN.Core.Datasets;
using DePIN.Core.Identity;
using NSec.Cryptography;

namespace DePIN.Client.Datasets;

/// <summary>The outcome of a check: whether it holds, and what was found either way.</summary>
public sealed record Verification(bool Valid, string Detail)
{
    internal static Verification Fail(string detail) => new(false, detail);
}

/// <summary>
/// Checks datasets' claims offline, with nothing but public keys: a tree head's platform signature, a record's
/// inclusion under a head (its node's signature included) and a later head's consistency with an earlier one.
/// </summary>
public static class DatasetVerifier
{
    /// <summary>Whether <paramref name="head"/> carries the platform's signature by <paramref name="platformKey"/> (base64).</summary>
    public static Verification Head(SignedTreeHead head, string platformKey)
    {
        ArgumentNullException.ThrowIfNull(head);
        if (Key(platformKey) is not { } key)
        {
            return Verification.Fail("The platform key is not the base64 of a 32-byte Ed25519 public key.");
        }

        if (!TryHex(head.Root, out var root) || !TryBase64(head.Signature, out var signature))
        {
            return Verification.Fail("The tree head's root or signature is not well-formed.");
        }

        return TreeHead.Verify(key, head.Dataset, head.Size, head.Timestamp, root, signature)
            ? new Verification(true, $"Tree head {head.Dataset}@{head.Size} is signed by platform key {NodeIdentity.DeriveNodeId(Convert.FromBase64String(platformKey))}.")
            : Verification.Fail($"Tree head {head.Dataset}@{head.Size} is not signed by the platform key.");
    }

    /// <summary>
    /// Whether the node-signed <paramref name="contribution"/> is the leaf at <paramref name="leafIndex"/> of the
    /// tree <paramref name="head"/> describes, by <paramref name="proof"/>.
    /// </summary>
    public static Verification Inclusion(ContributionRequest contribution, long leafIndex, SignedTreeHead head, MerkleProofView proof, string platformKey)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        ArgumentNullException.ThrowIfNull(proof);
        if (Head(head, platformKey) is { Valid: false } badHead)
        {
            return badHead;
        }

        var (signed, errors) = Contributions.Parse(contribution);
        if (signed is null)
        {
            return Verification.Fail("The record is malformed: " + string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}")));
        }

        var record = contribution.Record;
        if (record.Dataset != head.Dataset)
        {
            return Verification.Fail($"The record is for dataset '{record.Dataset}', the head for '{head.Dataset}'.");
        }

        if (NodeIdentity.DeriveNodeId(signed.PublicKey) != record.NodeId || Key(contribution.PublicKey) is not { } nodeKey
            || !NodeIdentity.Verify(nodeKey, signed.Record, signed.Signature))
        {
            return Verification.Fail($"The record does not carry node {record.NodeId}'s signature.");
        }

        if (proof.LeafIndex != leafIndex || proof.TreeSize != head.Size || Hashes(proof) is not { } hashes)
        {
            return Verification.Fail($"The proof is for leaf {proof.LeafIndex} of {proof.TreeSize}, not leaf {leafIndex} of {head.Size}, or is malformed.");
        }

        var leaf = MerkleHash.Leaf(Contribution.LeafEntry(signed.Record, signed.PublicKey, signed.Signature));
        return MerkleProof.VerifyInclusion(leaf, leafIndex, head.Size, hashes, Convert.FromHexString(head.Root))
            ? new Verification(true, $"Record {Convert.ToHexStringLower(Contribution.ContentHash(signed.Record))} is leaf {leafIndex} of {head.Dataset}@{head.Size}.")
            : Verification.Fail($"The proof does not place this record at leaf {leafIndex} under root {head.Root}.");
    }

    /// <summary>Whether <paramref name="later"/> extends <paramref name="earlier"/> (same dataset, append-only), by <paramref name="proof"/>.</summary>
    public static Verification Consistency(SignedTreeHead earlier, SignedTreeHead later, MerkleProofView proof, string platformKey)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        ArgumentNullException.ThrowIfNull(later);
        ArgumentNullException.ThrowIfNull(proof);
        if (Head(earlier, platformKey) is { Valid: false } first)
        {
            return first;
        }

        if (Head(later, platformKey) is { Valid: false } second)
        {
            return second;
        }

        if (earlier.Dataset != later.Dataset || proof.FirstSize != earlier.Size || proof.TreeSize != later.Size || Hashes(proof) is not { } hashes)
        {
            return Verification.Fail("The heads are of different datasets, or the proof is for other sizes, or is malformed.");
        }

        return MerkleProof.VerifyConsistency(earlier.Size, later.Size, hashes, Convert.FromHexString(earlier.Root), Convert.FromHexString(later.Root))
            ? new Verification(true, $"{later.Dataset}@{later.Size} extends {earlier.Dataset}@{earlier.Size}.")
            : Verification.Fail($"{later.Dataset}@{later.Size} is not an extension of {earlier.Dataset}@{earlier.Size}: the log was rewritten or the proof is wrong.");
    }

    private static PublicKey? Key(string base64) => TryBase64(base64, out var raw) ? NodeIdentity.TryImportPublicKey(raw) : null;

    private static byte[][]? Hashes(MerkleProofView proof)
    {
        var hashes = new byte[proof.Hashes.Count][];
        for (var i = 0; i < hashes.Length; i++)
        {
            if (!TryHex(proof.Hashes[i], out hashes[i]))
            {
                return null;
            }
        }

        return hashes;
    }

    private static bool TryHex(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(text);
            return bytes.Length == MerkleHash.Size;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromBase64String(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
