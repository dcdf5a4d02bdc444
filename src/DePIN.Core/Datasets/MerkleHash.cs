using System.Security.Cryptography;

namespace DePIN.Core.Datasets;

/// <summary>
/// The hashes of an RFC 6962 / RFC 9162 Merkle tree with SHA-256: a leaf is H(0x00 ‖ entry), an interior node
/// H(0x01 ‖ left ‖ right), and the empty tree's root H("").
/// </summary>
public static class MerkleHash
{
    public const int Size = 32;

    /// <summary>The root of the tree with no leaves: SHA-256 of the empty string.</summary>
    public static ReadOnlySpan<byte> Empty => [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55];

    public static byte[] Leaf(ReadOnlySpan<byte> entry)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData([0x00]);
        hash.AppendData(entry);
        return hash.GetHashAndReset();
    }

    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> input = stackalloc byte[1 + (2 * Size)];
        input[0] = 0x01;
        left.CopyTo(input[1..]);
        right.CopyTo(input[(1 + Size)..]);
        return SHA256.HashData(input);
    }
}
