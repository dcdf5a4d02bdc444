using DePIN.Abstractions.Jobs;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>What the scheduler acknowledged survives a restart of every silo on PostgreSQL.</summary>
public sealed class JobDurabilityTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_placement_holds_its_node_across_a_restart_and_the_node_is_freed_only_by_cancelling()
    {
        var database = await postgres.CreateDatabase();
        var clusterId = $"jobs-{Guid.NewGuid():N}";
        var settings = SiloOnPostgres.Settings;
        settings["Nodes:TelemetryInterval"] = "00:01:00"; // the node stays online across the restart
        using var node = TestNode.Create(region: "durable-1", cpuCores: 8);
        var spec = TestJob.Spec(replicas: 1, cpuCores: 8) with { Constraints = JobConstraints.None with { Regions = ["durable-1"] } };
        string key;

        await using (var first = await ServiceProcess.StartSilo(database, clusterId, settings))
        {
            var api = new JobApi(first.Http);
            key = await api.NewTenant();
            (await node.Register(first.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
            (await node.Send(first.Http, node.Batch(1, DateTimeOffset.UtcNow))).EnsureSuccessStatusCode();
            (await api.Send(HttpMethod.Put, "/v1/jobs/holder", key, spec)).EnsureSuccessStatusCode();
            await Wait.Until(() => api.Get<JobDetails>("/v1/jobs/holder", key), j => j.Status == JobStatus.Placed, "the first job placed");
            await first.Stop();
        }

        await using var second = await ServiceProcess.StartSilo(database, clusterId, settings);
        var again = new JobApi(second.Http);
        (await again.Send(HttpMethod.Put, "/v1/jobs/waiter", key, spec)).EnsureSuccessStatusCode();

        // Once a pass has considered the second job and let it wait, the restored ledger is what kept it off the node.
        await Wait.Until(
            async () => MetricsText.Value(await second.Http.GetStringAsync("/metrics"), "depin_placements_total", ("outcome", "waiting")),
            waits => waits >= 1, "a pass that left the second job waiting");
        Assert.Equal(JobStatus.Queued, (await again.Get<JobDetails>("/v1/jobs/waiter", key)).Status);
        Assert.Equal(JobStatus.Placed, (await again.Get<JobDetails>("/v1/jobs/holder", key)).Status);

        (await again.Send(HttpMethod.Post, "/v1/jobs/holder/cancel", key, new CancelRequest("done"))).EnsureSuccessStatusCode();
        var placed = await Wait.Until(() => again.Get<JobDetails>("/v1/jobs/waiter", key), j => j.Status == JobStatus.Placed, "the second job placed");
        Assert.Equal([node.Id], placed.Assignments.Select(a => a.NodeId));
    }
}
