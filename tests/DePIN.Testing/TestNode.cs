using System.Text.Json;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.Core.Identity;

namespace DePIN.Testing;

/// <summary>A node as a test drives it: its own key, capabilities, and signed requests to the HTTP API.</summary>
public sealed class TestNode(NodeSigner signer, NodeCapabilities capabilities) : IDisposable
{
    public NodeSigner Signer { get; } = signer;

    public string Id => Signer.NodeId;

    public NodeCapabilities Capabilities { get; private set; } = capabilities;

    public static TestNode Create(string region = "test-1", int cpuCores = 8) =>
        new(NodeSigner.Create(), DefaultCapabilities(region, cpuCores));

    public static NodeCapabilities DefaultCapabilities(string region = "test-1", int cpuCores = 8) =>
        new(cpuCores, 32L << 30, [new GpuInfo("NVIDIA RTX 4090", 24L << 30)], 1L << 40, 1000, region, 52.37, 4.90, "test");

    public NodeRegistration Registration(DateTimeOffset at, NodeCapabilities? capabilities = null)
    {
        Capabilities = capabilities ?? Capabilities;
        return new NodeRegistration(Signer.PublicKey, Capabilities, at, Id);
    }

    public TelemetryBatch Batch(long sequence, DateTimeOffset at, double cpu = 0.5) =>
        new(Id, sequence, at,
        [
            new TelemetrySample(at, cpu, 8L << 30, 32L << 30, 1e6, 5e5, 2e6, 1e6, 100L << 30, 1L << 40,
                [new GpuSample(0, cpu, 4L << 30, 40 + 40 * cpu, 100 + 300 * cpu)]),
        ]);

    public Task<HttpResponseMessage> Register(HttpClient http, DateTimeOffset at, NodeCapabilities? capabilities = null) =>
        Post(http, "/v1/nodes", Json(Registration(at, capabilities)));

    public Task<HttpResponseMessage> Send(HttpClient http, TelemetryBatch batch) =>
        Post(http, $"/v1/nodes/{Id}/telemetry", Json(batch));

    /// <summary>Posts <paramref name="body"/> exactly as given, signed by <paramref name="by"/> (default: this node's key).</summary>
    public Task<HttpResponseMessage> Post(HttpClient http, string path, byte[] body, NodeSigner? by = null) =>
        http.SendAsync(ApiJson.SignedPost(path, body, (by ?? Signer).Sign(body)));

    public static byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, ApiJson.Options);

    public void Dispose() => Signer.Dispose();
}
