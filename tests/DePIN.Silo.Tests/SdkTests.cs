using DePIN.Abstractions.Nodes;
using DePIN.Client;
using DePIN.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DePIN.Silo.Tests;

/// <summary>The SDK as an application uses it: an Orleans client that finds the silos through PostgreSQL.</summary>
public sealed class SdkTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>
{
    [Fact]
    public async Task The_SDK_gets_and_lists_nodes_and_watches_their_events()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDePINClient(o =>
        {
            o.ConnectionString = cluster.ConnectionString;
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ClusterId;
        });
        using var host = builder.Build();
        await host.StartAsync();
        var sdk = host.Services.GetRequiredService<IDePINClient>();

        await using var watch = await sdk.WatchNodeEventsAsync(region: "sdk-test");
        await using var events = watch.GetAsyncEnumerator();
        using var node = TestNode.Create(region: "sdk-test");
        using var elsewhere = TestNode.Create(region: "elsewhere");
        (await elsewhere.Register(cluster.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
        (await node.Register(cluster.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
        (await node.Send(cluster.Http, node.Batch(1, DateTimeOffset.UtcNow))).EnsureSuccessStatusCode();

        var seen = new List<NodeEvent>();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (seen.Count < 2 && await events.MoveNextAsync().AsTask().WaitAsync(timeout.Token))
            {
                seen.Add(events.Current);
            }
        }

        Assert.All(seen, e => Assert.Equal(node.Id, e.NodeId)); // the other region's registration is filtered out
        Assert.Equal([NodeStatus.Registered, NodeStatus.Online], seen.Select(e => e.Current));

        var details = await sdk.GetNodeAsync(node.Id);
        Assert.Equal(NodeStatus.Online, details!.Status);
        Assert.Equal(node.Capabilities, details.Capabilities);
        Assert.Null(await sdk.GetNodeAsync(TestNode.Create().Id));

        var online = await sdk.ListNodesAsync(NodeStatus.Online, "sdk-test").ToListAsync();
        Assert.Equal([node.Id], online.Select(n => n.NodeId));
        var all = await sdk.ListNodesAsync().ToListAsync();
        Assert.Contains(all, n => n.NodeId == elsewhere.Id);
        Assert.Equal(all.OrderBy(n => n.NodeId, StringComparer.Ordinal).Select(n => n.NodeId), all.Select(n => n.NodeId));
    }
}
