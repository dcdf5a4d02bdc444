using NSec.Cryptography;

namespace DePIN.Core.Identity;

/// <summary>A node's Ed25519 private key: signs registrations and telemetry batches.</summary>
public sealed class NodeSigner : IDisposable
{
    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;
    private readonly Key _key;

    private NodeSigner(Key key)
    {
        _key = key;
        PublicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        NodeId = NodeIdentity.DeriveNodeId(PublicKey);
    }

    /// <summary>The raw 32-byte public key.</summary>
    public byte[] PublicKey { get; }

    /// <summary>The node id derived from <see cref="PublicKey"/>.</summary>
    public string NodeId { get; }

    public static NodeSigner Create() =>
        new(Key.Create(Algorithm, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    /// <summary>Loads a key from its 32-byte raw private seed.</summary>
    public static NodeSigner Import(ReadOnlySpan<byte> privateKey) =>
        new(Key.Import(Algorithm, privateKey, KeyBlobFormat.RawPrivateKey,
            new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    /// <summary>The 32-byte raw private seed, for the agent's key file.</summary>
    public byte[] ExportPrivateKey() => _key.Export(KeyBlobFormat.RawPrivateKey);

    public byte[] Sign(ReadOnlySpan<byte> data) => Algorithm.Sign(_key, data);

    public void Dispose() => _key.Dispose();
}
