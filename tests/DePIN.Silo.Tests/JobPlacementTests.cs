using System.Net;
using DePIN.Abstractions.Jobs;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>Jobs meet nodes: the scheduler places queued gangs on online nodes from the directory's summaries.</summary>
public sealed class JobPlacementTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>
{
    private readonly JobApi _jobs = new(cluster.Http);

    [Fact]
    public async Task A_queued_gang_is_placed_on_an_online_node_and_cancelling_it_frees_the_node_for_the_next()
    {
        using var node = await OnlineNode(cpuCores: 8, region: "place-a");
        var key = await _jobs.NewTenant();
        var here = JobConstraints.None with { Regions = ["place-a"] };

        (await _jobs.Send(HttpMethod.Put, "/v1/jobs/whole-node", key, TestJob.Spec(replicas: 2, cpuCores: 4) with { Constraints = here })).EnsureSuccessStatusCode();
        var placed = await JobWhen(key, "whole-node", j => j.Status == JobStatus.Placed, "the first job placed");
        (await _jobs.Send(HttpMethod.Put, "/v1/jobs/next", key, TestJob.Spec(replicas: 1, cpuCores: 8) with { Constraints = here })).EnsureSuccessStatusCode();
        var waiting = await _jobs.Get<JobDetails>("/v1/jobs/next", key);
        (await _jobs.Send(HttpMethod.Post, "/v1/jobs/whole-node/cancel", key, new CancelRequest("make room"))).EnsureSuccessStatusCode();
        var next = await JobWhen(key, "next", j => j.Status == JobStatus.Placed, "the second job placed once the first let go");

        Assert.Equal([(0, node.Id, 1), (1, node.Id, 1)], placed.Assignments.Select(a => (a.Replica, a.NodeId, a.Attempt)));
        Assert.Equal(JobStatus.Queued, waiting.Status); // the node's 8 cores were taken
        Assert.Equal([node.Id], next.Assignments.Select(a => a.NodeId));
        Assert.True(await cluster.Metric("depin_placements_total", ("policy", "predictive"), ("outcome", "placed")) >= 2);
    }

    [Fact]
    public async Task A_gang_that_no_registered_node_could_ever_hold_is_refused_naming_the_field()
    {
        using var node = await OnlineNode(cpuCores: 8, region: "place-b");
        var key = await _jobs.NewTenant();
        var here = JobConstraints.None with { Regions = ["place-b"] };

        // The scheduler reads the directory every 200 ms here; until it has seen the node, such jobs still queue.
        var tooBig = await Refused(key, TestJob.Spec(replicas: 1, cpuCores: 64) with { Constraints = here });
        var tooMany = await Refused(key, TestJob.Spec(replicas: 3, gpus: 1) with { Constraints = here });

        Assert.Equal(["resources"], await JobApi.Fields(tooBig));
        Assert.Equal(["replicas"], await JobApi.Fields(tooMany));
        Assert.Contains("at most", await tooMany.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> Refused(string key, JobSpec spec) =>
        await Wait.Until(
            () => _jobs.Send(HttpMethod.Put, $"/v1/jobs/{JobApi.Unique("try")}", key, spec),
            r => r.StatusCode == HttpStatusCode.BadRequest,
            "the submission refused as unschedulable");

    private Task<JobDetails> JobWhen(string key, string id, Func<JobDetails, bool> done, string what) =>
        Wait.Until(() => _jobs.Get<JobDetails>($"/v1/jobs/{id}", key), done, what);

    /// <summary>A node with one GPU, registered and sending telemetry, so the directory lists it online.</summary>
    private async Task<TestNode> OnlineNode(int cpuCores, string region)
    {
        var node = TestNode.Create(region: region, cpuCores: cpuCores);
        (await node.Register(cluster.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
        (await node.Send(cluster.Http, node.Batch(1, DateTimeOffset.UtcNow))).EnsureSuccessStatusCode();
        await Wait.Until(() => cluster.Node(node.Id), n => n.Status == Abstractions.Nodes.NodeStatus.Online, "the node online");
        return node;
    }
}
