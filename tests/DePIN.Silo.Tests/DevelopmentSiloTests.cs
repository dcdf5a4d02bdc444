using System.Net;
using DePIN.Abstractions.Nodes;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>
/// A silo without PostgreSQL (no connection string: a single development silo with in-memory state, as the ingest
/// benchmark runs one) serves the whole API; the routes that need PostgreSQL answer as if nothing were there.
/// </summary>
public sealed class DevelopmentSiloTests
{
    [Fact]
    public async Task A_silo_without_postgres_takes_nodes_and_telemetry_and_has_no_models()
    {
        await using var silo = await ServiceProcess.StartSilo(connectionString: null, clusterId: $"dev-{Guid.NewGuid():N}");
        using var node = TestNode.Create(region: "dev-1");

        using var registered = await node.Register(silo.Http, DateTimeOffset.UtcNow);
        using var accepted = await node.Send(silo.Http, node.Batch(1, DateTimeOffset.UtcNow));
        var online = await Wait.Until(() => silo.Http.Find<NodeDetails>($"/v1/nodes/{node.Id}"), n => n?.Status == NodeStatus.Online, "the node online");
        using var weights = await silo.Http.GetAsync($"/v1/models/{new string('a', 64)}/weights");

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Accepted), (registered.StatusCode, accepted.StatusCode));
        Assert.Equal(node.Id, online!.NodeId);
        Assert.Equal(HttpStatusCode.NotFound, weights.StatusCode);
        Assert.Equal("urn:depin:problem:unknown-model", await DePIN.Testing.Http.ProblemType(weights));
    }
}
