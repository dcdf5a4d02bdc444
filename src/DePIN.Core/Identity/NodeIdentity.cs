using System.Security.Cryptography;
using NSec.Cryptography;

namespace DePIN.Core.Identity;

/// <summary>
/// Ed25519 node identity. A node id is derived from the public key, so an id can only ever be claimed by
/// the holder of the matching private key: <c>base32(SHA-256(publicKey)[0..20])</c>, 32 characters.
/// </summary>
public static class NodeIdentity
{
    /// <summary>Length of a raw Ed25519 public key.</summary>
    public const int PublicKeyLength = 32;

    /// <summary>Length of an Ed25519 signature.</summary>
    public const int SignatureLength = 64;

    /// <summary>Length of a node id in characters (160 bits of the key's hash, base32).</summary>
    public const int NodeIdLength = 32;

    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;

    public static string DeriveNodeId(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != PublicKeyLength)
        {
            throw new ArgumentException($"An Ed25519 public key is {PublicKeyLength} bytes, not {publicKey.Length}.", nameof(publicKey));
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(publicKey, hash);
        return Base32.Encode(hash[..20]);
    }

    /// <summary>True when <paramref name="nodeId"/> has the shape of a derived node id.</summary>
    public static bool IsWellFormedNodeId(ReadOnlySpan<char> nodeId) =>
        nodeId.Length == NodeIdLength && Base32.IsEncoded(nodeId);

    /// <summary>Imports a raw 32-byte public key; null when the bytes are not a valid Ed25519 point encoding.</summary>
    public static PublicKey? TryImportPublicKey(ReadOnlySpan<byte> publicKey) =>
        publicKey.Length == PublicKeyLength &&
        PublicKey.TryImport(Algorithm, publicKey, KeyBlobFormat.RawPublicKey, out var key)
            ? key
            : null;

    public static bool Verify(PublicKey publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        signature.Length == SignatureLength && Algorithm.Verify(publicKey, data, signature);
}
