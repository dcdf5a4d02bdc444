using System.Net.Http.Json;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Http;
using DePIN.Client.Datasets;
using DePIN.Core.Datasets;
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
        using var host = await Sdk();
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

    [Fact]
    public async Task The_SDK_creates_a_dataset_contributes_and_proves_and_the_verifier_checks_it_offline()
    {
        using var host = await Sdk();
        var sdk = host.Services.GetRequiredService<IDePINClient>();
        using var station = TestNode.Create();
        (await station.Register(cluster.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
        var name = $"sdk-{Guid.NewGuid():N}";
        var definition = new DatasetDefinition("Readings", "CC0-1.0", "sdk-test",
            [new DatasetField("temp_max", DatasetFieldType.Number, "°C", -60, 60)], new ContributorPolicy(ContributorPolicyKind.AnyRegistered));

        var created = await sdk.CreateDatasetAsync(name, definition);
        await Assert.ThrowsAsync<InvalidOperationException>(() => sdk.CreateDatasetAsync(name, definition with { Licence = "MIT" }));
        var requests = Enumerable.Range(0, 4).Select(i => Contributions.Sign(new Contribution(name, station.Id, "thermometer",
            new DateTimeOffset(2012, 1, 1, 0, 0, 0, TimeSpan.Zero).AddHours(i), 1, 2, "test",
            new Dictionary<string, FieldValue> { ["temp_max"] = FieldValue.Of(i) }), station.Signer)).ToList();
        var receipts = new List<ContributionReceipt>();
        foreach (var request in requests)
        {
            receipts.Add((await sdk.ContributeAsync(name, Contributions.Parse(request).Signed!)).Receipt!);
        }

        var refused = await sdk.ContributeAsync(name, Contributions.Parse(Contributions.Sign(requests[0].Record with
        {
            Values = new Dictionary<string, FieldValue> { ["temp_max"] = FieldValue.Of(99) },
        }, station.Signer)).Signed!);
        var latest = (await sdk.GetDatasetAsync(name))!.TreeHead;
        var key = (await cluster.Http.GetFromJsonAsync<PlatformKeys>("/v1/platform/keys", ApiJson.Options))!.TreeHeadPublicKey;
        var inclusion = await sdk.ProveInclusionAsync(name, receipts[2].LeafIndex, latest.Size);
        var consistency = await sdk.ProveConsistencyAsync(name, receipts[0].TreeHead.Size, latest.Size);

        Assert.Equal(0, created.TreeHead.Size);
        Assert.Equal("schema", refused.Rejection!.Reason);
        Assert.Equal(4, latest.Size);
        Assert.True(DatasetVerifier.Inclusion(requests[2], receipts[2].LeafIndex, latest, inclusion!, key).Valid);
        Assert.False(DatasetVerifier.Inclusion(requests[1], receipts[2].LeafIndex, latest, inclusion!, key).Valid);
        Assert.True(DatasetVerifier.Consistency(receipts[0].TreeHead, latest, consistency!, key).Valid);
        Assert.False(DatasetVerifier.Consistency(latest, receipts[0].TreeHead, consistency!, key).Valid);
        Assert.Null(await sdk.ProveInclusionAsync(name, 4, 4));
        var snapshot = await sdk.TakeSnapshotAsync(name);
        Assert.Equal((4L, latest.Root), (snapshot!.Size, snapshot.Root));
        Assert.Equal(snapshot.CreatedAt, (await sdk.GetSnapshotAsync(name, 4))!.CreatedAt);
        Assert.Null(await sdk.GetSnapshotAsync(name, 3));
    }

    private async Task<IHost> Sdk()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDePINClient(o =>
        {
            o.ConnectionString = cluster.ConnectionString;
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ClusterId;
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
