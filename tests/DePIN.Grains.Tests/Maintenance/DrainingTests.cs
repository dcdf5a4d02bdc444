using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.Testing;

namespace DePIN.Grains.Tests.Maintenance;

/// <summary>
/// Predictive maintenance on a fake clock: fault events raise a node's failure risk (the transparent rule, since the
/// fleet has no history yet), the node drains, its running job checkpoints and moves, and it returns to service once
/// the evidence has faded; operators can hold it either way.
/// </summary>
public sealed class DrainingTests(DrainingTests.DrainingCluster cluster) : IClassFixture<DrainingTests.DrainingCluster>
{
    /// <summary>The cluster of these tests, with <see cref="Settings"/>.</summary>
    public sealed class DrainingCluster() : NodeCluster(Settings);

    // Telemetry every minute, so hours of fading evidence take few batches; risk assessed on every batch.
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Nodes:TelemetryInterval"] = "00:01:00",
        ["Maintenance:RiskInterval"] = "00:00:01",
    };

    private static TelemetryBatch WithFaults(TestNode node, long sequence, DateTimeOffset at) =>
        node.Batch(sequence, at) with
        {
            Faults =
            [
                new FaultReport(at, FaultKinds.GpuEcc, "NVRM: Xid 48, double-bit ECC error"),
                new FaultReport(at, FaultKinds.GpuEcc, "NVRM: Xid 48, double-bit ECC error"),
                new FaultReport(at, FaultKinds.GpuEcc, "NVRM: Xid 48, double-bit ECC error"),
                new FaultReport(at, FaultKinds.GpuXid, "NVRM: Xid 79, GPU has fallen off the bus"),
            ],
        };

    [Fact]
    public async Task A_node_whose_faults_predict_failure_drains_its_job_moves_from_a_checkpoint_and_it_returns_when_the_risk_falls()
    {
        var fleet = await Fleet.Online(cluster, "drain-1", 2);
        await cluster.Sdk.SubmitJobAsync("acme", "drained", TestJob.Spec(replicas: 1) with { Constraints = JobConstraints.None with { Regions = ["drain-1"] } });
        var placed = await JobWhen(cluster, "drained", j => j.Status == JobStatus.Placed, "the job placed");
        var risky = fleet.Single(a => a.Id == placed.Assignments[0].NodeId);
        var healthy = fleet.Single(a => a != risky);
        var item = await risky.Next("drained");
        await risky.Report(item, WorkReportKind.Started, 0);
        var progress = GrainAgent.RunTo(item, TestJob.Steps / 3);
        await risky.Report(item, WorkReportKind.Checkpoint, progress.Step, progress);

        cluster.Time.Advance(TimeSpan.FromSeconds(1)); // a later batch than the last beat
        var now = cluster.Time.GetUtcNow();
        await cluster.Report(WithFaults(risky.Node, now.ToUnixTimeMilliseconds(), now));
        var draining = await Wait.Until(() => cluster.Node(risky.Id).GetDetails().AsTask(), n => n!.Status == NodeStatus.Draining, "the node draining");

        // The job is asked to stop; its agent checkpoints and stops; it resumes on the healthy node.
        await Wait.Until(risky.Work, items => items.Any(i => i.JobKey == item.JobKey && i.Stop), "the job on the draining node asked to stop");
        await risky.Report(item, WorkReportKind.Stopped, progress.Step, progress);
        await JobWhen(cluster, "drained", j => j.Status == JobStatus.Placed && j.Attempts == 2, "the job placed again");
        var moved = await healthy.Next("drained", attempt: 2);

        // Hours pass with no new faults: the evidence fades (half-life 30 min) and the node returns to service.
        var back = await Wait.Until(async () =>
        {
            cluster.Time.Advance(TimeSpan.FromMinutes(2));
            await Fleet.Beat(cluster, risky, healthy);
            return (await cluster.Node(risky.Id).GetDetails())!;
        }, n => n.Status == NodeStatus.Online, "the node back in service", TimeSpan.FromMinutes(2));

        Assert.True(draining!.Maintenance!.Risk >= 0.9, $"risk {draining.Maintenance.Risk}");
        Assert.Equal(("rule", MaintenanceMode.Auto), (draining.Maintenance.Source, draining.Maintenance.Mode));
        Assert.StartsWith("faults_GpuEcc=3", draining.Maintenance.Reason, StringComparison.Ordinal);
        Assert.Equal(TestJob.Steps / 3, moved.Resume!.Step);
        Assert.True(back.Maintenance!.Risk < 0.3, $"risk {back.Maintenance.Risk}");
        Assert.True(back.StatusChangedAt - draining.StatusChangedAt > TimeSpan.FromHours(1), "it came back before the evidence faded");
    }

    [Fact]
    public async Task Operators_hold_a_node_drained_or_keep_it_in_service_whatever_its_risk()
    {
        var node = (await Fleet.Online(cluster, "hold-1", 1))[0];
        await using var events = await cluster.Sdk.WatchNodeEventsAsync("hold-1");
        await using var feed = events.GetAsyncEnumerator();

        var held = await cluster.Node(node.Id).SetMaintenanceMode(MaintenanceMode.Drain);
        var heldEvent = await Next(feed, node.Id);
        var kept = await cluster.Node(node.Id).SetMaintenanceMode(MaintenanceMode.Keep);
        var keptEvent = await Next(feed, node.Id);

        cluster.Time.Advance(TimeSpan.FromSeconds(1)); // a later batch than the last beat
        var now = cluster.Time.GetUtcNow();
        await cluster.Report(WithFaults(node.Node, now.ToUnixTimeMilliseconds(), now));
        var risky = await Wait.Until(() => cluster.Node(node.Id).GetDetails().AsTask(), n => n!.Maintenance!.Risk >= 0.9, "the risk assessed");
        var auto = await cluster.Node(node.Id).SetMaintenanceMode(MaintenanceMode.Auto);
        var autoEvent = await Next(feed, node.Id);

        Assert.Equal((NodeStatus.Draining, MaintenanceMode.Drain), (held!.Status, held.Maintenance!.Mode));
        Assert.Equal((NodeStatus.Online, NodeStatus.Draining, "draining: operator set drain"), (heldEvent.Previous, heldEvent.Current, heldEvent.Reason));
        Assert.Equal((NodeStatus.Online, MaintenanceMode.Keep), (kept!.Status, kept.Maintenance!.Mode));
        Assert.Equal((NodeStatus.Draining, NodeStatus.Online), (keptEvent.Previous, keptEvent.Current));
        Assert.Equal(NodeStatus.Online, risky!.Status); // kept in service despite the risk
        Assert.Equal(NodeStatus.Draining, auto!.Status); // given back to the risk, it drains
        Assert.StartsWith("draining: risk 0.9", autoEvent.Reason, StringComparison.Ordinal);
        Assert.Null(await cluster.Node(TestNode.Create().Id).SetMaintenanceMode(MaintenanceMode.Drain));
    }

    [Fact]
    public async Task Moments_before_failed_work_reach_the_failure_model_as_failures_and_older_ones_as_healthy()
    {
        await using var cluster = await NodeCluster.Start(new Dictionary<string, string?>(Settings)
        {
            ["Maintenance:ExampleInterval"] = "00:01:00",
            ["Maintenance:Horizon"] = "00:10:00",
        });
        var node = (await Fleet.Online(cluster, "learn-1", 1))[0];

        // Twenty minutes of telemetry, a moment kept each minute: those older than the horizon become healthy examples.
        for (var minute = 0; minute < 20; minute++)
        {
            cluster.Time.Advance(TimeSpan.FromMinutes(1));
            await Fleet.Beat(cluster, node);
        }

        await cluster.Node(node.Id).WorkFailed(); // sends what the node grain holds before it returns
        var (examples, failures) = await Wait.Until(
            () => cluster.Client.GetGrain<DePIN.Grains.Maintenance.IFailureModelGrain>(0).GetHistory().AsTask(),
            h => h.Examples > 0, "the node's moments at the failure model");

        Assert.InRange(failures, 9, 11);          // the moments within the horizon of the failure
        Assert.InRange(examples - failures, 9, 12); // the moments older than it
    }

    private static async Task<NodeEvent> Next(IAsyncEnumerator<NodeEvent> feed, string nodeId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (await feed.MoveNextAsync().AsTask().WaitAsync(timeout.Token))
        {
            // The node's own coming online (Registered → Online) may still be on its way when the watch begins: past it.
            if (feed.Current.NodeId == nodeId && feed.Current.Previous is not (null or NodeStatus.Registered))
            {
                return feed.Current;
            }
        }

        throw new InvalidOperationException("The node event stream ended.");
    }

    private static Task<JobDetails> JobWhen(NodeCluster cluster, string id, Func<JobDetails, bool> done, string what) =>
        Wait.Until(async () => (await cluster.Sdk.GetJobAsync("acme", id))!, done, what);
}
