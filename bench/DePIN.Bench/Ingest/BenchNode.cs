using System.Text;
using System.Text.Json;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.Core.Identity;

namespace DePIN.Bench.Ingest;

/// <summary>A simulated node on the load generator's side: it signs every batch it sends, as an agent does.</summary>
public sealed class BenchNode(NodeSigner signer, NodeCapabilities capabilities)
{
    private static readonly string[] Regions = ["eu-west", "eu-central", "us-east", "us-west", "ap-southeast"];
    private readonly string _telemetryPath = $"/v1/nodes/{signer.NodeId}/telemetry";
    private long _sequence;

    public string Id => signer.NodeId;

    public NodeSigner Signer => signer;

    public static BenchNode Create(int index) =>
        new(NodeSigner.Create(), new NodeCapabilities(
            16, 64L << 30, [new GpuInfo("NVIDIA RTX 4090", 24L << 30)], 2L << 40, 1000, Regions[index % Regions.Length], 50, 8, "bench"));

    public async Task Register(HttpClient http, CancellationToken cancellationToken)
    {
        var registration = new NodeRegistration(signer.PublicKey, capabilities, DateTimeOffset.UtcNow, Id);
        var body = JsonSerializer.SerializeToUtf8Bytes(registration, ApiJson.Options);
        using var response = await http.SendAsync(ApiJson.SignedPost("/v1/nodes", body, signer.Sign(body)), cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Samples, signs and posts the next batch; true when the API accepted it.</summary>
    public async Task<bool> SendNext(RawHttpConnection connection)
    {
        var body = NextBody();
        var signature = Encoding.ASCII.GetBytes(Convert.ToBase64String(signer.Sign(body)));
        return await connection.Post(_telemetryPath, body, signature) == 202;
    }

    /// <summary>The next batch, signed, for a relay to carry.</summary>
    public SignedBatch NextSigned()
    {
        var body = NextBody();
        return new SignedBatch(Id, body, signer.Sign(body));
    }

    /// <summary>The next batch's body, as <see cref="SendNext"/> would post it.</summary>
    public byte[] NextBody()
    {
        var now = DateTimeOffset.UtcNow;
        var load = 0.3 + 0.4 * ((_sequence % 10) / 10.0);
        var batch = new TelemetryBatch(Id, ++_sequence, now,
        [
            new TelemetrySample(now, load, 20L << 30, 64L << 30, 1.2e6, 4.0e5, 3.0e6, 1.5e6, 600L << 30, 2L << 40,
                [new GpuSample(0, load, 8L << 30, 45 + 30 * load, 120 + 250 * load)]),
        ]);
        return JsonSerializer.SerializeToUtf8Bytes(batch, ApiJson.Options);
    }

}
