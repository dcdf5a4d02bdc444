using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using DePIN.Core.Datasets;
using DePIN.Core.Identity;

namespace DePIN.Core.Inference;

/// <summary>
/// A node's signed statement of one answer: which model version (its weights' hash) it ran, on which input (the
/// SHA-256 of the input's canonical form, <see cref="HashInput"/>), and what it answered. Anyone with the node's
/// public key can check it; with the model registry, the chain runs from the answer back to the model, the
/// dataset snapshot it was trained on and each signed record in it.
/// </summary>
/// <param name="Probabilities">The model's class probabilities, in its class order.</param>
/// <param name="PublicKey">The node's Ed25519 public key (base64); its node id is derived from it.</param>
/// <param name="Signature">Ed25519 over <see cref="SigningInput"/> (base64).</param>
public sealed record InferenceReceipt(
    string ModelHash, string NodeId, string InputHash, string Answer, float[] Probabilities, DateTimeOffset At, string PublicKey, string Signature)
{
    private static ReadOnlySpan<byte> Magic => "depin-inference-receipt-v1\0"u8;

    /// <summary>
    /// The input's address: SHA-256 (lower-case hex) of its canonical form, which is a contribution's canonical
    /// encoding with the model hash as dataset and empty node, sensor and agent: one encoding per input.
    /// </summary>
    public static string HashInput(string modelHash, DateTimeOffset at, double latitude, double longitude, IReadOnlyDictionary<string, FieldValue> values) =>
        Convert.ToHexStringLower(SHA256.HashData(new Contribution(modelHash, "", "", at, latitude, longitude, "", values).ToCanonical()));

    /// <summary>What the node signs: the magic, then model hash, node id, input hash and answer (uint32 length and UTF-8 each), the probabilities (uint32 count, float32 each), the time (int64 Unix ms), little-endian.</summary>
    public static byte[] SigningInput(string modelHash, string nodeId, string inputHash, string answer, float[] probabilities, DateTimeOffset at)
    {
        using var buffer = new MemoryStream();
        buffer.Write(Magic);
        Span<byte> scratch = stackalloc byte[8];
        foreach (var text in new[] { modelHash, nodeId, inputHash, answer })
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)bytes.Length);
            buffer.Write(scratch[..4]);
            buffer.Write(bytes);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)probabilities.Length);
        buffer.Write(scratch[..4]);
        foreach (var p in probabilities)
        {
            BinaryPrimitives.WriteSingleLittleEndian(scratch, p);
            buffer.Write(scratch[..4]);
        }

        BinaryPrimitives.WriteInt64LittleEndian(scratch, at.ToUnixTimeMilliseconds());
        buffer.Write(scratch);
        return buffer.ToArray();
    }

    public static InferenceReceipt Sign(string modelHash, string inputHash, string answer, float[] probabilities, DateTimeOffset at, NodeSigner signer)
    {
        var whole = DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds());
        var signature = signer.Sign(SigningInput(modelHash, signer.NodeId, inputHash, answer, probabilities, whole));
        return new(modelHash, signer.NodeId, inputHash, answer, probabilities, whole, Convert.ToBase64String(signer.PublicKey), Convert.ToBase64String(signature));
    }

    /// <summary>Whether the signature holds, by the key the node id derives from (and, when given, the key the caller trusts for that node).</summary>
    public bool Verify(string? trustedPublicKey = null)
    {
        var key = new byte[NodeIdentity.PublicKeyLength];
        var signature = new byte[NodeIdentity.SignatureLength];
        if (!Convert.TryFromBase64String(PublicKey, key, out var keyLength) || keyLength != key.Length ||
            !Convert.TryFromBase64String(Signature, signature, out var signatureLength) || signatureLength != signature.Length ||
            NodeIdentity.DeriveNodeId(key) != NodeId || trustedPublicKey is not null && trustedPublicKey != PublicKey ||
            NodeIdentity.TryImportPublicKey(key) is not { } imported)
        {
            return false;
        }

        return NodeIdentity.Verify(imported, SigningInput(ModelHash, NodeId, InputHash, Answer, Probabilities, At), signature);
    }
}
