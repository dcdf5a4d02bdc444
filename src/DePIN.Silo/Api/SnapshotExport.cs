using System.Globalization;
using System.Text;
using System.Text.Json;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Http;
using DePIN.Core.Datasets;
using DePIN.Grains.Datasets;

namespace DePIN.Silo.Api;

/// <summary>Writes a snapshot's records as they stream from the table: a JSON array, or CSV rows.</summary>
public static class SnapshotExport
{
    /// <summary>A JSON array of <see cref="ExportedRecord"/>, each one a record as its node signed it.</summary>
    public static async Task Json(Stream body, IAsyncEnumerable<StoredRecord> records)
    {
        // The response allows only asynchronous writes: serialize each record to bytes, then write those.
        await body.WriteAsync("["u8.ToArray());
        var first = true;
        await foreach (var stored in records)
        {
            if (!first)
            {
                await body.WriteAsync(","u8.ToArray());
            }

            await body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(ToExported(stored), ApiJson.Options));
            first = false;
        }

        await body.WriteAsync("]"u8.ToArray());
    }

    /// <summary>
    /// CSV (RFC 4180): provenance columns, then one column per schema field in schema order, then the key and
    /// signature (base64) that let anyone re-check a row.
    /// </summary>
    public static async Task Csv(Stream body, SnapshotManifest manifest, IAsyncEnumerable<StoredRecord> records)
    {
        await using var writer = new StreamWriter(body, new UTF8Encoding(false), 64 * 1024);
        var fields = manifest.Definition.Fields.Select(f => f.Name).ToArray();
        string[] head = ["leaf_index", "content_hash", "node_id", "region", "sensor", "sampled_at", "latitude", "longitude", "agent_version", .. fields, "public_key", "signature"];
        await writer.WriteAsync(string.Join(',', head.Select(Quote)) + "\r\n");
        await foreach (var stored in records)
        {
            var record = Contribution.FromCanonical(stored.Canonical)!;
            string[] row =
            [
                stored.LeafIndex.ToString(CultureInfo.InvariantCulture), Convert.ToHexStringLower(stored.ContentHash), record.NodeId, stored.Region,
                record.Sensor, record.SampledAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                Number(record.Latitude), Number(record.Longitude), record.AgentVersion,
                .. fields.Select(f => record.Values.TryGetValue(f, out var v) ? v.Text ?? Number(v.Number) : ""),
                Convert.ToBase64String(stored.PublicKey), Convert.ToBase64String(stored.Signature),
            ];
            await writer.WriteAsync(string.Join(',', row.Select(Quote)) + "\r\n");
        }
    }

    private static ExportedRecord ToExported(StoredRecord stored) => new(
        stored.LeafIndex, Convert.ToHexStringLower(stored.ContentHash), stored.Region, Contribution.FromCanonical(stored.Canonical)!,
        Convert.ToBase64String(stored.PublicKey), Convert.ToBase64String(stored.Signature));

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
