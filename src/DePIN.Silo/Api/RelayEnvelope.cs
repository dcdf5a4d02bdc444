using System.Text.Json;

namespace DePIN.Silo.Api;

/// <summary>
/// Reads the body of <c>/v1/telemetry</c>, <c>{"batches":[{"nodeId","signature","batch"}]}</c>, strictly (no other
/// members, none twice, none missing), keeping each <c>batch</c> as the slice of the body its node signed.
/// </summary>
public static class RelayEnvelope
{
    public readonly record struct Item(string NodeId, byte[] Signature, ReadOnlyMemory<byte> Batch);

    /// <summary>The relayed batches in order, or the field that is wrong and why.</summary>
    public static (Item[]? Items, (string Field, string Message)? Error) Read(ReadOnlyMemory<byte> body, int maxBatches)
    {
        var items = new List<Item>();
        var field = "body";
        try
        {
            var reader = new Utf8JsonReader(body.Span);
            Expect(ref reader, JsonTokenType.StartObject, "must be a JSON object");
            var sawBatches = false;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("batches"u8) || sawBatches)
                {
                    return (null, ("body", $"has an unexpected or repeated member '{Name(ref reader)}'"));
                }

                sawBatches = true;
                field = "batches";
                Expect(ref reader, JsonTokenType.StartArray, "must be an array");
                while (Next(ref reader) != JsonTokenType.EndArray)
                {
                    field = $"batches[{items.Count}]";
                    if (items.Count == maxBatches)
                    {
                        return (null, ("batches", $"must hold at most {maxBatches} batches"));
                    }

                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        return (null, (field, "must be an object"));
                    }

                    var (item, error) = ReadItem(ref reader, body, field);
                    if (item is null)
                    {
                        return (null, error);
                    }

                    items.Add(item.Value);
                }
            }

            if (!sawBatches || items.Count == 0)
            {
                return (null, ("batches", "must hold at least one batch"));
            }

            field = "body";
            return reader.Read() ? (null, (field, "has content after the object")) : ([.. items], null);
        }
        catch (JsonException ex)
        {
            return (null, (field, ex.Message.Split(" LineNumber:")[0]));
        }
        catch (InvalidOperationException)
        {
            return (null, (field, "holds a string that is not valid UTF-8"));
        }
    }

    private static (Item? Item, (string, string)? Error) ReadItem(ref Utf8JsonReader reader, ReadOnlyMemory<byte> body, string at)
    {
        string? nodeId = null;
        byte[]? signature = null;
        ReadOnlyMemory<byte>? batch = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("nodeId"u8) && nodeId is null)
            {
                Expect(ref reader, JsonTokenType.String, "nodeId must be a string");
                nodeId = reader.GetString()!;
            }
            else if (reader.ValueTextEquals("signature"u8) && signature is null)
            {
                Expect(ref reader, JsonTokenType.String, "signature must be a string");
                if (!reader.TryGetBytesFromBase64(out signature) || signature.Length != 64)
                {
                    return (null, ($"{at}.signature", "must be a base64 Ed25519 signature (64 bytes)"));
                }
            }
            else if (reader.ValueTextEquals("batch"u8) && batch is null)
            {
                Expect(ref reader, JsonTokenType.StartObject, "batch must be an object");
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                batch = body[start..(int)reader.BytesConsumed];
            }
            else
            {
                return (null, (at, $"has an unexpected or repeated member '{Name(ref reader)}'"));
            }
        }

        return nodeId is null ? (null, ($"{at}.nodeId", "is required"))
            : signature is null ? (null, ($"{at}.signature", "is required"))
            : batch is null ? (null, ($"{at}.batch", "is required"))
            : (new Item(nodeId, signature, batch.Value), null);
    }

    // A member's name as sent, for the error; bytes that are not UTF-8 shown as replacement characters.
    private static string Name(ref Utf8JsonReader reader) => System.Text.Encoding.UTF8.GetString(reader.ValueSpan);

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new JsonException("ends early");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string message)
    {
        if (Next(ref reader) != type)
        {
            throw new JsonException(message);
        }
    }
}
