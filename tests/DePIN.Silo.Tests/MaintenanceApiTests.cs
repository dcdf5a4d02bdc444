using System.Net;
using System.Text.Json;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>A silo whose detectors score after 20 samples and whose nodes are assessed on every batch.</summary>
public sealed class MaintenanceSilo(PostgresServer postgres) : SiloOnPostgres(postgres)
{
    protected override Dictionary<string, string> Configure(Dictionary<string, string> settings)
    {
        settings["Maintenance:DetectorWarmup"] = "20";
        settings["Maintenance:RiskInterval"] = "00:00:00.001";
        return settings;
    }
}

/// <summary>
/// Predictive maintenance through the HTTP API of a real silo process: agents' fault events and network signs are
/// validated, detector alarms and risk show on /metrics, a risky node drains, and operators set a node's mode.
/// </summary>
public sealed class MaintenanceApiTests(MaintenanceSilo cluster) : IClassFixture<MaintenanceSilo>
{
    private HttpClient Http => cluster.Http;

    [Fact]
    public async Task Bad_fault_events_and_network_signs_get_400_naming_the_field_and_change_nothing()
    {
        using var node = await Online(1);
        var now = DateTimeOffset.UtcNow;
        var meteor = node.Batch(2, now) with { Faults = [new FaultReport(now, "meteor", "struck")] };
        var lossy = node.Batch(2, now) with { Samples = [node.Batch(2, now).Samples[0] with { PacketLoss = 1.5, LatencyMs = -1 }] };

        using var badKind = await node.Send(Http, meteor);
        using var badSigns = await node.Send(Http, lossy);

        Assert.Equal(HttpStatusCode.BadRequest, badKind.StatusCode);
        Assert.Equal(["faults[0].kind"], await Fields(badKind));
        Assert.Equal(HttpStatusCode.BadRequest, badSigns.StatusCode);
        Assert.Equal(["samples[0].latencyMs", "samples[0].packetLoss"], await Fields(badSigns));
        Assert.Equal(1, (await cluster.Node(node.Id)).LastSequence);
    }

    [Fact]
    public async Task Fault_events_that_predict_failure_drain_the_node_and_show_its_risk_and_the_drain_on_metrics()
    {
        using var node = await Online(1);
        var before = await cluster.Metric("depin_drains_total", ("reason", "risk"));
        var now = DateTimeOffset.UtcNow;
        var faulty = node.Batch(2, now) with
        {
            Faults =
            [
                new FaultReport(now, FaultKinds.GpuEcc, "NVRM: Xid 48, double-bit ECC error"),
                new FaultReport(now, FaultKinds.GpuEcc, "NVRM: Xid 48, double-bit ECC error"),
                new FaultReport(now, FaultKinds.GpuXid, "NVRM: Xid 79, GPU has fallen off the bus"),
                new FaultReport(now, FaultKinds.Disk, "blk_update_request: I/O error, dev nvme0n1"),
            ],
        };

        using var accepted = await node.Send(Http, faulty);
        var draining = await cluster.NodeWhen(node.Id, n => n.Status == NodeStatus.Draining, "the node draining");
        var metrics = await Http.GetStringAsync("/metrics");

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.True(draining.Maintenance!.Risk >= 0.9, $"risk {draining.Maintenance.Risk}");
        Assert.Equal("rule", draining.Maintenance.Source);
        Assert.True(MetricsText.Value(metrics, "depin_nodes_by_risk", ("band", "high")) >= 1);
        Assert.DoesNotContain(node.Id, metrics, StringComparison.Ordinal); // no series per node
        Assert.Equal(before + 1, MetricsText.Value(metrics, "depin_drains_total", ("reason", "risk")));
    }

    [Fact]
    public async Task A_jump_no_sample_before_reached_is_an_anomaly_counted_by_metric()
    {
        using var node = await Online(1);
        var before = await cluster.Metric("depin_anomalies_total", ("metric", "cpu"));
        for (var sequence = 2; sequence <= 25; sequence++)
        {
            (await node.Send(Http, node.Batch(sequence, DateTimeOffset.UtcNow, cpu: 0.3))).EnsureSuccessStatusCode();
        }

        (await node.Send(Http, node.Batch(26, DateTimeOffset.UtcNow, cpu: 0.97))).EnsureSuccessStatusCode();
        await cluster.NodeWhen(node.Id, n => n.LastSequence == 26, "the jump taken");
        var after = await Wait.Until(() => cluster.Metric("depin_anomalies_total", ("metric", "cpu")), v => v > before, "a cpu anomaly counted");

        Assert.Equal(before + 1, after);
        Assert.True((await cluster.Node(node.Id)).Maintenance!.Anomalies >= 1);
    }

    [Fact]
    public async Task Operators_hold_a_node_drained_and_give_it_back_and_nobody_else_may()
    {
        using var node = await Online(1);
        var jobs = new JobApi(Http);
        var tenant = await jobs.NewTenant();
        var path = $"/v1/nodes/{node.Id}/maintenance";
        var before = await cluster.Metric("depin_drains_total", ("reason", "operator"));

        using var anonymous = await jobs.Send(HttpMethod.Put, path, null, new MaintenanceRequest(MaintenanceMode.Drain));
        using var byTenant = await jobs.Send(HttpMethod.Put, path, tenant, new MaintenanceRequest(MaintenanceMode.Drain));
        using var badMode = await jobs.SendRaw(HttpMethod.Put, path, DePIN.Testing.Http.OperatorKey, """{"mode":"sometimes"}"""u8.ToArray());
        using var unknown = await jobs.Send(HttpMethod.Put, $"/v1/nodes/{TestNode.Create().Id}/maintenance", DePIN.Testing.Http.OperatorKey, new MaintenanceRequest(MaintenanceMode.Drain));
        var untouched = await cluster.Node(node.Id);

        using var drain = await jobs.Send(HttpMethod.Put, path, DePIN.Testing.Http.OperatorKey, new MaintenanceRequest(MaintenanceMode.Drain));
        var drained = await cluster.Node(node.Id);
        var drains = await cluster.Metric("depin_drains_total", ("reason", "operator"));
        using var auto = await jobs.Send(HttpMethod.Put, path, DePIN.Testing.Http.OperatorKey, new MaintenanceRequest(MaintenanceMode.Auto));
        var back = await cluster.Node(node.Id);

        Assert.Equal(
            [HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden, HttpStatusCode.BadRequest, HttpStatusCode.NotFound],
            [anonymous.StatusCode, byTenant.StatusCode, badMode.StatusCode, unknown.StatusCode]);
        Assert.Equal(["mode"], await Fields(badMode));
        Assert.Equal((NodeStatus.Online, MaintenanceMode.Auto), (untouched.Status, untouched.Maintenance!.Mode));
        Assert.Equal(HttpStatusCode.OK, drain.StatusCode);
        Assert.Equal((NodeStatus.Draining, MaintenanceMode.Drain), (drained.Status, drained.Maintenance!.Mode));
        Assert.Equal(before + 1, drains);
        Assert.Equal((HttpStatusCode.OK, NodeStatus.Online, MaintenanceMode.Auto), (auto.StatusCode, back.Status, back.Maintenance!.Mode));
    }

    private async Task<TestNode> Online(long sequence)
    {
        var node = TestNode.Create(region: "maint-1");
        (await node.Register(Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
        (await node.Send(Http, node.Batch(sequence, DateTimeOffset.UtcNow))).EnsureSuccessStatusCode();
        await cluster.NodeWhen(node.Id, n => n.Status == NodeStatus.Online, "the node online");
        return node;
    }

    private static async Task<string[]> Fields(HttpResponseMessage response)
    {
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. problem.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];
    }
}
