using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Telemetry;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>
/// <c>POST /v1/telemetry</c> on a real silo: many nodes' signed batches in one request, taken all or refused all at
/// the door, then each answered as the single-batch route would.
/// </summary>
public sealed class TelemetryRelayTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>
{
    private const string Rejected = "depin_telemetry_rejected_total";

    [Fact]
    public async Task Relayed_batches_of_several_nodes_are_each_journaled_and_applied_in_order()
    {
        using var a = await Registered();
        using var b = await Registered();
        var now = DateTimeOffset.UtcNow;
        var accepted = await cluster.Metric("depin_telemetry_batches_total");

        using var response = await Relay(Signed(a, a.Batch(1, now)), Signed(b, b.Batch(1, now)), Signed(a, a.Batch(2, now, cpu: 0.9)));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<RelayResults>(ApiJson.Options))!;
        Assert.Equal(3, results.Accepted);
        Assert.Equal([(a.Id, 1L, 202), (b.Id, 1L, 202), (a.Id, 2L, 202)], results.Results.Select(r => (r.NodeId, r.Sequence, r.Status)));
        // Answered once journaled and applied: the nodes show it at once.
        var (nodeA, nodeB) = (await cluster.Node(a.Id), await cluster.Node(b.Id));
        Assert.Equal((2L, 2L), (nodeA.LastSequence, nodeA.Counters.Accepted));
        Assert.Equal((1L, 1L), (nodeB.LastSequence, nodeB.Counters.Accepted));
        Assert.Equal(accepted + 3, await cluster.Metric("depin_telemetry_batches_total"));
    }

    [Fact]
    public async Task One_forged_batch_refuses_the_whole_request_names_it_and_nothing_is_taken()
    {
        using var a = await Registered();
        using var b = await Registered();
        using var forger = TestNode.Create();
        var now = DateTimeOffset.UtcNow;
        var before = await cluster.Metric(Rejected, ("reason", "bad_signature"));
        var forged = TestNode.Json(b.Batch(1, now));

        using var response = await Relay(Signed(a, a.Batch(1, now)), new SignedBatch(b.Id, forged, forger.Signer.Sign(forged)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await Problem(response);
        Assert.Equal("urn:depin:problem:bad-signature", problem.GetProperty("type").GetString());
        Assert.StartsWith("batches[1]: ", problem.GetProperty("detail").GetString());
        Assert.Equal([1], problem.GetProperty("refused").EnumerateArray().Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal(0, (await cluster.Node(a.Id)).LastSequence); // the good batch was not taken either
        Assert.Equal(0, (await cluster.Node(b.Id)).LastSequence);
        Assert.Equal(before + 1, await cluster.Metric(Rejected, ("reason", "bad_signature")));
    }

    [Fact]
    public async Task A_malformed_batch_refuses_the_request_naming_the_batch_and_its_field()
    {
        using var a = await Registered();
        var now = DateTimeOffset.UtcNow;
        var bad = a.Batch(2, now) with { Samples = [a.Batch(2, now).Samples[0] with { CpuUtilization = 1.5 }] };

        using var response = await Relay(Signed(a, a.Batch(1, now)), Signed(a, bad));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Problem(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty("batches[1].samples[0].cpuUtilization", out _), problem.ToString());
        Assert.Equal(0, (await cluster.Node(a.Id)).LastSequence);
    }

    [Theory]
    [InlineData("""{"batches":[]}""", "batches")]
    [InlineData("""{"batches":[{"nodeId":"x","batch":{}}]}""", "batches[0].signature")]
    [InlineData("""{"batches":[{"nodeId":"x","signature":"AAAA","batch":{}}]}""", "batches[0].signature")]
    [InlineData("""{"batches":[{"nodeId":"x","signature":"SIG","batch":{},"extra":1}]}""", "batches[0]")]
    [InlineData("""{"batches":[{"nodeId":7,"signature":"SIG","batch":{}}]}""", "batches[0]")]
    [InlineData("""{"batches":[{"nodeId":"x","signature":"SIG","batch":[1]}]}""", "batches[0]")]
    [InlineData("""{"batches":[{"nodeId":"x","signature":"SIG","batch":{}}],"more":true}""", "body")]
    [InlineData("""{"batches":[{"nodeId":"x","signature":"SIG","batch":{}}]} []""", "body")]
    [InlineData("""[]""", "body")]
    public async Task A_malformed_envelope_gets_400_naming_the_field(string envelope, string field)
    {
        var body = envelope.Replace("SIG", Convert.ToBase64String(new byte[64]), StringComparison.Ordinal);

        using var response = await cluster.Http.PostAsync(RelayedTelemetry.Path, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Problem(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task A_stale_batch_is_answered_in_its_place_while_the_others_are_taken_and_a_replay_changes_nothing()
    {
        using var a = await Registered();
        using var b = await Registered();
        var now = DateTimeOffset.UtcNow;
        var body = RelayedTelemetry.Envelope([Signed(a, a.Batch(1, now)), Signed(b, b.Batch(1, now - TimeSpan.FromMinutes(3)))]);

        using var response = await Post(body);

        Assert.Equal(HttpStatusCode.MultiStatus, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<RelayResults>(ApiJson.Options))!;
        Assert.Equal(1, results.Accepted);
        Assert.Equal([202, 422], results.Results.Select(r => r.Status));
        Assert.Equal("urn:depin:problem:stale-batch", results.Results[1].Type);
        Assert.Equal(1, (await cluster.Node(a.Id)).LastSequence);
        Assert.Equal(0, (await cluster.Node(b.Id)).LastSequence);

        // The same request again: a's batch is a replay (answered 202, changes nothing), b's is still stale.
        var replayed = await cluster.Metric(Rejected, ("reason", "replayed"));
        using var again = await Post(body);
        Assert.Equal(HttpStatusCode.MultiStatus, again.StatusCode);
        var nodeA = await cluster.Node(a.Id);
        Assert.Equal((1L, 1L, 1L), (nodeA.LastSequence, nodeA.Counters.Accepted, nodeA.Counters.Replayed));
        Assert.Equal(replayed + 1, await cluster.Metric(Rejected, ("reason", "replayed")));
    }

    [Fact]
    public async Task A_batch_of_an_unregistered_node_refuses_the_request_with_404()
    {
        using var stranger = TestNode.Create();
        using var unknown = await Relay(Signed(stranger, stranger.Batch(1, DateTimeOffset.UtcNow)));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("urn:depin:problem:unknown-node", (await Problem(unknown)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_relay_route()
    {
        using var document = JsonDocument.Parse(await cluster.Http.GetStringAsync("/openapi/v1.json"));
        var post = document.RootElement.GetProperty("paths").GetProperty(RelayedTelemetry.Path).GetProperty("post");
        Assert.True(post.GetProperty("responses").TryGetProperty("207", out _));
    }

    private async Task<TestNode> Registered()
    {
        var node = TestNode.Create();
        (await node.Register(cluster.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
        return node;
    }

    private static SignedBatch Signed(TestNode node, TelemetryBatch batch)
    {
        var body = TestNode.Json(batch);
        return new SignedBatch(node.Id, body, node.Signer.Sign(body));
    }

    private Task<HttpResponseMessage> Relay(params SignedBatch[] batches) => Post(RelayedTelemetry.Envelope(batches));

    private Task<HttpResponseMessage> Post(byte[] body) =>
        cluster.Http.PostAsync(RelayedTelemetry.Path, new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });

    private static async Task<JsonElement> Problem(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
