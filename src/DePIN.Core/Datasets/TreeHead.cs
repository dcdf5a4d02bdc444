using System.Buffers.Binary;
using System.Text;
using DePIN.Core.Identity;
using NSec.Cryptography;

namespace DePIN.Core.Datasets;

/// <summary>
/// What the platform signs to vouch for a log's state: <c>depin-tree-head-v1\0</c>, the dataset name (uint32 byte
/// length and UTF-8), the size and the timestamp in Unix milliseconds (int64 little-endian), and the 32-byte root.
/// </summary>
public static class TreeHead
{
    public static byte[] SigningInput(string dataset, long size, DateTimeOffset timestamp, ReadOnlySpan<byte> root)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(root.Length, MerkleHash.Size);
        var name = Encoding.UTF8.GetBytes(dataset);
        var magic = "depin-tree-head-v1\0"u8;
        var bytes = new byte[magic.Length + 4 + name.Length + 8 + 8 + MerkleHash.Size];
        var span = bytes.AsSpan();
        magic.CopyTo(span);
        span = span[magic.Length..];
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)name.Length);
        name.CopyTo(span[4..]);
        span = span[(4 + name.Length)..];
        BinaryPrimitives.WriteInt64LittleEndian(span, size);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], timestamp.ToUnixTimeMilliseconds());
        root.CopyTo(span[16..]);
        return bytes;
    }

    /// <summary>Whether <paramref name="signature"/> is the platform key's signature of this head.</summary>
    public static bool Verify(PublicKey platformKey, string dataset, long size, DateTimeOffset timestamp, ReadOnlySpan<byte> root, ReadOnlySpan<byte> signature) =>
        root.Length == MerkleHash.Size && NodeIdentity.Verify(platformKey, SigningInput(dataset, size, timestamp, root), signature);
}
