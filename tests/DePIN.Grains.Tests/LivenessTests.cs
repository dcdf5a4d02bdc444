using DePIN.Abstractions.Nodes;
using DePIN.Client;
using DePIN.Testing;

namespace DePIN.Grains.Tests;

/// <summary>Node liveness on a fake clock: Online, then Suspect and Offline as silence grows, Online again on telemetry.</summary>
public sealed class LivenessTests(NodeCluster cluster) : IClassFixture<NodeCluster>
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Silence_makes_a_node_suspect_after_3_intervals_and_offline_after_6_and_telemetry_brings_it_back()
    {
        using var node = TestNode.Create(region: "eu-west");
        await using var events = await cluster.Sdk.WatchNodeEventsAsync("eu-west");
        await using var feed = events.GetAsyncEnumerator();

        await BringOnline(cluster, feed, node);

        // Default interval 5 s: suspect at 15 s of silence, offline at 30 s.
        var suspect = await SilentUntil(cluster, feed, node, TimeSpan.FromSeconds(15), NodeStatus.Online, NodeStatus.Suspect);
        Assert.Equal(cluster.Time.GetUtcNow(), suspect.At);
        await SilentUntil(cluster, feed, node, TimeSpan.FromSeconds(15), NodeStatus.Suspect, NodeStatus.Offline);
        Assert.Contains(await List(cluster.Sdk, NodeStatus.Offline, "eu-west"), n => n.NodeId == node.Id);

        // A batch brings it back.
        await cluster.Report(node.Batch(2, cluster.Time.GetUtcNow()));
        await Expect(feed, node.Id, NodeStatus.Offline, NodeStatus.Online);
        Assert.Contains(await List(cluster.Sdk, NodeStatus.Online, "eu-west"), n => n.NodeId == node.Id);
        Assert.DoesNotContain(await List(cluster.Sdk, NodeStatus.Offline, "eu-west"), n => n.NodeId == node.Id);
    }

    [Fact]
    public async Task Telemetry_arriving_in_time_keeps_a_node_online()
    {
        using var node = TestNode.Create();
        await cluster.Node(node.Id).Register(node.Registration(cluster.Time.GetUtcNow()));

        for (var sequence = 1; sequence <= 10; sequence++)
        {
            await cluster.Report(node.Batch(sequence, cluster.Time.GetUtcNow()));
            var applied = sequence;
            await Wait.Until(() => cluster.Node(node.Id).GetDetails().AsTask(), n => n!.LastSequence == applied, $"batch {applied}");
            cluster.Time.Advance(TimeSpan.FromSeconds(10)); // two intervals between batches: late, but not suspect
        }

        var details = await cluster.Node(node.Id).GetDetails();
        Assert.Equal(NodeStatus.Online, details!.Status);
        Assert.Equal(10, details.Counters.Accepted);
    }

    [Fact]
    public async Task The_thresholds_are_configurable()
    {
        await using var cluster = await NodeCluster.Start(new Dictionary<string, string?>
        {
            ["Nodes:TelemetryInterval"] = "00:00:10",
            ["Nodes:SuspectAfterIntervals"] = "2",
            ["Nodes:OfflineAfterIntervals"] = "4",
        });
        using var node = TestNode.Create();
        await using var events = await cluster.Sdk.WatchNodeEventsAsync();
        await using var feed = events.GetAsyncEnumerator();
        await BringOnline(cluster, feed, node);

        // Interval 10 s: suspect at 2 intervals of silence, offline at 4.
        await SilentUntil(cluster, feed, node, TimeSpan.FromSeconds(20), NodeStatus.Online, NodeStatus.Suspect);
        await SilentUntil(cluster, feed, node, TimeSpan.FromSeconds(20), NodeStatus.Suspect, NodeStatus.Offline);
    }

    [Fact]
    public async Task A_batch_signed_too_long_ago_is_dropped_as_stale()
    {
        using var node = TestNode.Create();
        await cluster.Node(node.Id).Register(node.Registration(cluster.Time.GetUtcNow()));

        await cluster.Report(node.Batch(1, cluster.Time.GetUtcNow() - TimeSpan.FromMinutes(3)));
        var details = await Wait.Until(() => cluster.Node(node.Id).GetDetails().AsTask(), n => n!.Counters.Stale == 1, "the stale batch to be counted");

        Assert.Equal(0, details!.LastSequence);
        Assert.Equal(NodeStatus.Registered, details.Status);
    }

    private static async Task BringOnline(NodeCluster cluster, IAsyncEnumerator<NodeEvent> feed, TestNode node)
    {
        await cluster.Node(node.Id).Register(node.Registration(cluster.Time.GetUtcNow()));
        await Expect(feed, node.Id, null, NodeStatus.Registered);
        await cluster.Report(node.Batch(1, cluster.Time.GetUtcNow()));
        await Expect(feed, node.Id, NodeStatus.Registered, NodeStatus.Online);
    }

    // Advances the clock to 0.1 s short of the threshold (nothing changes), then to it (the transition happens).
    private static async Task<NodeEvent> SilentUntil(
        NodeCluster cluster, IAsyncEnumerator<NodeEvent> feed, TestNode node, TimeSpan more, NodeStatus from, NodeStatus to)
    {
        cluster.Time.Advance(more - TimeSpan.FromSeconds(0.1));
        Assert.Equal(from, (await cluster.Node(node.Id).GetDetails())!.Status);
        cluster.Time.Advance(TimeSpan.FromSeconds(0.1));
        return await Expect(feed, node.Id, from, to);
    }

    private static async Task<NodeEvent> Expect(IAsyncEnumerator<NodeEvent> feed, string nodeId, NodeStatus? previous, NodeStatus current)
    {
        using var timeout = new CancellationTokenSource(EventTimeout);
        try
        {
            while (await feed.MoveNextAsync().AsTask().WaitAsync(timeout.Token))
            {
                var e = feed.Current;
                if (e.NodeId != nodeId)
                {
                    continue;
                }

                Assert.Equal((previous, current), (e.Previous, e.Current));
                return e;
            }
        }
        catch (OperationCanceledException)
        {
            // reported below
        }

        throw new TimeoutException($"No {previous?.ToString() ?? "new"} -> {current} event for node {nodeId} within {EventTimeout.TotalSeconds} s.");
    }

    private static async Task<List<NodeSummary>> List(IDePINClient sdk, NodeStatus status, string region)
    {
        var nodes = new List<NodeSummary>();
        await foreach (var node in sdk.ListNodesAsync(status, region))
        {
            nodes.Add(node);
        }

        return nodes;
    }
}
