using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Nodes;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>The HTTP API against a real silo process on PostgreSQL: what it takes, what it refuses and counts.</summary>
public sealed class ApiTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>
{
    private const string Rejected = "depin_telemetry_rejected_total";
    private HttpClient Http => cluster.Http;

    [Fact]
    public async Task Registering_creates_the_node_and_registering_again_updates_its_capabilities()
    {
        using var node = TestNode.Create(region: "eu-west");
        var now = DateTimeOffset.UtcNow;

        using var created = await node.Register(Http, now);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/v1/nodes/{node.Id}", created.Headers.Location?.OriginalString);

        var bigger = node.Capabilities with { CpuCores = 64, Region = "eu-central" };
        using var updated = await node.Register(Http, now.AddSeconds(1), bigger);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);

        var details = await cluster.Node(node.Id);
        Assert.Equal(64, details.Capabilities.CpuCores);
        Assert.Equal("eu-central", details.Capabilities.Region);
        Assert.Equal(node.Signer.PublicKey, details.PublicKey);

        // The directory moved it to its new region.
        var central = await Http.GetFromJsonAsync<NodeSummary[]>("/v1/nodes?region=eu-central", ApiJson.Options);
        var west = await Http.GetFromJsonAsync<NodeSummary[]>("/v1/nodes?region=eu-west", ApiJson.Options);
        Assert.Contains(central!, n => n.NodeId == node.Id && n.CpuCores == 64);
        Assert.DoesNotContain(west!, n => n.NodeId == node.Id);
    }

    [Fact]
    public async Task A_different_key_can_never_take_over_a_node_id()
    {
        using var owner = TestNode.Create();
        using var intruder = TestNode.Create();
        (await owner.Register(Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();

        // The intruder claims the owner's id with its own key, signing correctly with that key.
        var claim = new NodeRegistration(intruder.Signer.PublicKey, TestNode.DefaultCapabilities(cpuCores: 1), DateTimeOffset.UtcNow, owner.Id);
        using var response = await intruder.Post(Http, "/v1/nodes", TestNode.Json(claim));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("urn:depin:problem:key-mismatch", await ProblemType(response));
        var details = await cluster.Node(owner.Id);
        Assert.Equal(owner.Signer.PublicKey, details.PublicKey);
        Assert.Equal(8, details.Capabilities.CpuCores);
    }

    [Fact]
    public async Task A_registration_with_a_forged_signature_is_refused()
    {
        using var node = TestNode.Create();
        using var forger = TestNode.Create();
        using var response = await node.Post(Http, "/v1/nodes", TestNode.Json(node.Registration(DateTimeOffset.UtcNow)), by: forger.Signer);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"/v1/nodes/{node.Id}")).StatusCode);
    }

    [Fact]
    public async Task A_batch_with_a_forged_signature_gets_401_changes_nothing_and_is_counted()
    {
        using var node = await Registered();
        using var forger = TestNode.Create();
        var before = await cluster.Metric(Rejected, ("reason", "bad_signature"));

        using var response = await node.Post(Http, $"/v1/nodes/{node.Id}/telemetry", TestNode.Json(node.Batch(1, DateTimeOffset.UtcNow)), by: forger.Signer);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("urn:depin:problem:bad-signature", await ProblemType(response));
        Assert.Equal(before + 1, await cluster.Metric(Rejected, ("reason", "bad_signature")));
        var details = await cluster.Node(node.Id);
        Assert.Equal(0, details.LastSequence);
        Assert.Equal(NodeStatus.Registered, details.Status);
    }

    [Fact]
    public async Task A_replayed_batch_changes_nothing_and_is_counted()
    {
        using var node = await Registered();
        var body = TestNode.Json(node.Batch(7, DateTimeOffset.UtcNow, cpu: 0.25));
        var before = await cluster.Metric(Rejected, ("reason", "replayed"));

        Assert.Equal(HttpStatusCode.Accepted, (await node.Post(Http, $"/v1/nodes/{node.Id}/telemetry", body)).StatusCode);
        var first = await cluster.NodeWhen(node.Id, n => n.LastSequence == 7, "the first batch to be applied");

        // The same signed bytes again: authentic, but already seen.
        Assert.Equal(HttpStatusCode.Accepted, (await node.Post(Http, $"/v1/nodes/{node.Id}/telemetry", body)).StatusCode);
        var after = await cluster.NodeWhen(node.Id, n => n.Counters.Replayed == 1, "the replay to be counted");

        Assert.Equal(7, after.LastSequence);
        Assert.Equal(1, after.Counters.Accepted);
        Assert.Equal(first.Telemetry, after.Telemetry);
        Assert.Equal(first.LastHeardAt, after.LastHeardAt);
        Assert.Equal(before + 1, await cluster.Metric(Rejected, ("reason", "replayed")));

        // An older sequence number is a replay too.
        var older = TestNode.Json(node.Batch(3, DateTimeOffset.UtcNow));
        Assert.Equal(HttpStatusCode.Accepted, (await node.Post(Http, $"/v1/nodes/{node.Id}/telemetry", older)).StatusCode);
        var last = await cluster.NodeWhen(node.Id, n => n.Counters.Replayed == 2, "the older batch to be counted");
        Assert.Equal(7, last.LastSequence);
    }

    [Fact]
    public async Task A_batch_signed_too_long_ago_is_refused_as_stale_and_changes_nothing()
    {
        using var node = await Registered();
        Assert.Equal(HttpStatusCode.Accepted, (await node.Send(Http, node.Batch(1, DateTimeOffset.UtcNow))).StatusCode);
        var before = await cluster.NodeWhen(node.Id, n => n.LastSequence == 1, "the first batch to be applied");

        using var response = await node.Send(Http, node.Batch(2, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(3)));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("urn:depin:problem:stale-batch", await ProblemType(response));
        var after = await cluster.NodeWhen(node.Id, n => n.Counters.Stale == 1, "the stale batch to be counted");
        Assert.Equal((1, 1), (after.LastSequence, after.Counters.Accepted));
        Assert.Equal(before.Telemetry, after.Telemetry);
    }

    [Theory]
    [InlineData("not json at all", "body")]
    [InlineData("""{"nodeId":"NODE","sequence":"seven","timestamp":"NOW","samples":[]}""", "sequence")]
    [InlineData("""{"nodeId":"NODE","timestamp":"NOW","samples":[]}""", "sequence")]
    [InlineData("""{"nodeId":"NODE","sequence":1,"timestamp":"NOW","samples":[]}""", "samples")]
    [InlineData("""{"nodeId":"NODE","sequence":1,"timestamp":"NOW","samples":[{"at":"NOW","cpuUtilization":1.5,"memoryUsedBytes":1,"memoryTotalBytes":2,"netRxBytesPerSecond":0,"netTxBytesPerSecond":0,"diskReadBytesPerSecond":0,"diskWriteBytesPerSecond":0,"diskUsedBytes":0,"diskTotalBytes":0,"gpus":[]}]}""", "samples[0].cpuUtilization")]
    public async Task A_malformed_batch_gets_400_naming_the_field_and_is_counted(string template, string field)
    {
        using var node = await Registered();
        var body = Encoding.UTF8.GetBytes(template.Replace("NODE", node.Id).Replace("NOW", DateTimeOffset.UtcNow.ToString("O")));
        var before = await cluster.Metric(Rejected, ("reason", "malformed"));

        using var response = await node.Post(Http, $"/v1/nodes/{node.Id}/telemetry", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("urn:depin:problem:malformed", problem.RootElement.GetProperty("type").GetString());
        var errors = problem.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains(field, errors);
        Assert.Equal(before + 1, await cluster.Metric(Rejected, ("reason", "malformed")));
        Assert.Equal(0, (await cluster.Node(node.Id)).LastSequence);
    }

    [Fact]
    public async Task An_oversize_batch_gets_413_and_is_counted()
    {
        using var node = await Registered();
        var now = DateTimeOffset.UtcNow;
        var huge = node.Batch(1, now) with { Samples = [.. Enumerable.Repeat(node.Batch(1, now).Samples[0], 400)] };
        var before = await cluster.Metric(Rejected, ("reason", "oversize"));

        using var response = await node.Send(Http, huge);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(before + 1, await cluster.Metric(Rejected, ("reason", "oversize")));
        Assert.Equal(0, (await cluster.Node(node.Id)).LastSequence);
    }

    [Fact]
    public async Task A_batch_for_an_unknown_node_gets_404_and_is_counted()
    {
        using var stranger = TestNode.Create();
        var before = await cluster.Metric(Rejected, ("reason", "unknown_node"));

        using var response = await stranger.Send(Http, stranger.Batch(1, DateTimeOffset.UtcNow));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("urn:depin:problem:unknown-node", await ProblemType(response));
        Assert.Equal(before + 1, await cluster.Metric(Rejected, ("reason", "unknown_node")));
    }

    [Fact]
    public async Task An_accepted_batch_brings_the_node_online_and_is_counted_with_its_lag()
    {
        using var node = await Registered(region: "ap-southeast");
        var batches = await cluster.Metric("depin_telemetry_batches_total");
        var lags = await cluster.Metric("depin_telemetry_lag_seconds_count");

        using var response = await node.Send(Http, node.Batch(1, DateTimeOffset.UtcNow, cpu: 0.75));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var details = await cluster.NodeWhen(node.Id, n => n.Status == NodeStatus.Online, "the node to come online");
        Assert.Equal(0.75, details.Telemetry.CpuUtilization, 6);
        Assert.True(await cluster.Metric("depin_telemetry_batches_total") >= batches + 1);
        Assert.True(await cluster.Metric("depin_telemetry_lag_seconds_count") >= lags + 1);

        var online = await Wait.Until(
            () => Http.GetFromJsonAsync<NodeSummary[]>("/v1/nodes?status=online&region=ap-southeast", ApiJson.Options),
            nodes => nodes!.Any(n => n.NodeId == node.Id), "the directory to list the node as online");
        Assert.All(online!, n => Assert.Equal(NodeStatus.Online, n.Status));
        Assert.True(await cluster.Metric("depin_nodes", ("status", "online")) >= 1);
    }

    [Theory]
    [InlineData("/v1/nodes?status=sleeping", "status")]
    [InlineData("/v1/nodes?status=1", "status")]
    [InlineData("/v1/nodes?region=Not%20A%20Region", "region")]
    [InlineData("/v1/nodes?limit=0", "limit")]
    [InlineData("/v1/nodes?state=online", "state")] // the filter is status: a misspelt one is refused, not ignored
    public async Task A_bad_listing_query_gets_400_naming_the_parameter(string path, string field)
    {
        using var response = await Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_node_routes()
    {
        using var document = JsonDocument.Parse(await Http.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");

        Assert.True(paths.GetProperty("/v1/nodes").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/v1/nodes").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/v1/nodes/{id}").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/v1/nodes/{id}/telemetry").TryGetProperty("post", out _));
    }

    private async Task<TestNode> Registered(string region = "test-1")
    {
        var node = TestNode.Create(region);
        (await node.Register(Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
        return node;
    }

    private static Task<string?> ProblemType(HttpResponseMessage response) => DePIN.Testing.Http.ProblemType(response);
}
