using System.Buffers;
using System.Text.Json;

namespace DePIN.Abstractions.Telemetry;

/// <summary>
/// The body of <c>POST /v1/telemetry</c>: many nodes' signed batches in one request, for an agent that reports several
/// nodes or a site's gateway. Each batch travels as its node signed it, so the relay needs no key of its own:
/// <c>{"batches":[{"nodeId":"…","signature":"base64","batch":{…}}, …]}</c>, where the bytes of each <c>batch</c>
/// value are exactly the bytes the node signed (written verbatim, not re-serialized).
/// </summary>
public static class RelayedTelemetry
{
    public const string Path = "/v1/telemetry";

    /// <summary>Writes the envelope around already-signed batch bodies, each kept byte for byte.</summary>
    public static byte[] Envelope(IEnumerable<SignedBatch> batches)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("batches");
            foreach (var batch in batches)
            {
                writer.WriteStartObject();
                writer.WriteString("nodeId", batch.NodeId);
                writer.WriteBase64String("signature", batch.Signature);
                writer.WritePropertyName("batch");
                writer.WriteRawValue(batch.Body.Span, skipInputValidation: true);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>One node's batch as it signed it: the exact JSON bytes of a <see cref="TelemetryBatch"/> and their Ed25519 signature.</summary>
public readonly record struct SignedBatch(string NodeId, ReadOnlyMemory<byte> Body, byte[] Signature);

/// <summary>
/// The answer to <c>POST /v1/telemetry</c> once every batch verified: 202 when all were journaled and applied (or were
/// replays), 207 when some were not; <see cref="Results"/> follows the request's order.
/// </summary>
public sealed record RelayResults(int Accepted, RelayResult[] Results);

/// <summary>
/// What became of one batch: the status the single-batch route would have answered (202, 422 stale, 429 over the
/// node's rate, 503 journal behind) and, when it is not 202, why, as problem details' type, title and detail.
/// </summary>
public sealed record RelayResult(string NodeId, long Sequence, int Status, string? Type = null, string? Title = null, string? Detail = null);
