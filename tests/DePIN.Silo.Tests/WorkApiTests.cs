using System.Net;
using System.Net.Http.Json;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Work;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>The work protocol over HTTP: the node agent as its own process runs jobs end to end; bad requests change nothing.</summary>
public sealed class WorkApiTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>, IDisposable
{
    private static readonly string[] AgentRegions = ["eu-west", "eu-central", "us-east"]; // the first three simulated nodes'
    private readonly JobApi _jobs = new(cluster.Http);
    private readonly string _keys = Path.Combine(Path.GetTempPath(), $"depin-work-{Guid.NewGuid():N}");

    [Fact]
    public async Task Agents_pull_batch_work_run_it_and_jobs_succeed_with_verified_results()
    {
        await using var agent = await ServiceProcess.StartAgent(
            "--api", cluster.Http.BaseAddress!.ToString(), "--simulate", "3", "--interval", "0.2", "--key-dir", _keys);
        var ids = await Wait.Until(() => Task.FromResult(KeyIds()), ids => ids.Count == 3, "three key files");
        await Wait.Until(() => Task.WhenAll(ids.Select(id => cluster.Http.Find<NodeDetails>($"/v1/nodes/{id}"))),
            nodes => nodes.All(n => n?.Status == NodeStatus.Online), "the fleet online");
        var key = await _jobs.NewTenant();
        var there = JobConstraints.None with { Regions = AgentRegions };
        var checkedThrice = TestJob.Spec(replicas: 1, cpuCores: 1) with
        {
            Constraints = there,
            Verification = new VerificationPolicy(3, Adaptive: false),
            Batch = new BatchWork(11, 200_000),
        };
        var gang = TestJob.Spec(replicas: 2, cpuCores: 1) with { Constraints = there, Batch = new BatchWork(12, 100_000) };

        (await _jobs.Send(HttpMethod.Put, "/v1/jobs/thrice", key, checkedThrice)).EnsureSuccessStatusCode();
        (await _jobs.Send(HttpMethod.Put, "/v1/jobs/gang", key, gang)).EnsureSuccessStatusCode();
        var thrice = await Finished(key, "thrice");
        var pair = await Finished(key, "gang");
        var nodes = await Task.WhenAll(ids.Select(cluster.Node));
        var signers = AgentKeys.Signers(_keys).Select(s => new TestNode(s, TestNode.DefaultCapabilities())).ToList();
        var inboxes = await Task.WhenAll(signers.Select(Work));
        signers.ForEach(n => n.Dispose());

        Assert.Equal((JobStatus.Succeeded, BatchKernel.Result(11, 0, 200_000)), (thrice.Status, thrice.Result));
        Assert.Equal([(0, 180_000L)], thrice.Checkpoints.Select(c => (c.Shard, c.Step))); // the last step all three copies agreed on
        Assert.Equal((JobStatus.Succeeded, Verification.Combine([BatchKernel.Result(12, 0, 100_000), BatchKernel.Result(12, 1, 100_000)])),
            (pair.Status, pair.Result));
        Assert.All(nodes, n => Assert.Equal((1L, 0L), (n.Reputation.Agreed, n.Reputation.Disagreed)));
        Assert.All(inboxes, w => Assert.Empty(w.Items)); // the finished jobs' slots are withdrawn

        // The economy on /metrics: the jobs' escrows and leases counted by kind, the rate the market set where they ran.
        Assert.True(await cluster.Metric("depin_ledger_postings_total", ("kind", "escrow")) >= 2);
        Assert.True(await cluster.Metric("depin_ledger_postings_total", ("kind", "lease")) >= 1);
        Assert.True(await cluster.Metric("depin_rate", ("region", "eu-west"), ("class", "cpu")) > 0);
    }

    [Fact]
    public async Task Bad_work_requests_get_problem_details_and_change_nothing()
    {
        using var node = await OnlineNode("work-api");
        using var stranger = await OnlineNode("work-api-other");
        using var unregistered = TestNode.Create();
        var key = await _jobs.NewTenant();
        var spec = TestJob.Spec(replicas: 1, cpuCores: 1) with { Constraints = JobConstraints.None with { Regions = ["work-api"] } };
        (await _jobs.Send(HttpMethod.Put, "/v1/jobs/probe", key, spec)).EnsureSuccessStatusCode();
        var item = await Wait.Until(() => Work(node), w => w.Items.Length == 1, "the slot in the node's inbox");
        var slot = item.Items[0];
        WorkReport Report(TestNode by, WorkReportKind kind) =>
            new(by.Id, slot.JobKey, slot.Slot, slot.Attempt, kind, 0, null, null, null, DateTimeOffset.UtcNow);

        var forged = await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/work", TestNode.Json(Poll(node)), by: stranger.Signer);
        var unknown = await unregistered.Post(cluster.Http, $"/v1/nodes/{unregistered.Id}/work", TestNode.Json(Poll(unregistered)));
        var tooLong = await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/work", TestNode.Json(Poll(node) with { WaitSeconds = 100 }));
        var badCheckpoint = await SendReport(node, Report(node, WorkReportKind.Checkpoint) with
        {
            Checkpoint = new WorkCheckpoint(10, BatchKernel.ContentHash("other"u8), [1, 2, 3]),
        });
        var noSuchJob = await SendReport(node, Report(node, WorkReportKind.Started) with { JobKey = "nobody/nothing" });
        var notYours = await SendReport(stranger, Report(stranger, WorkReportKind.Started));
        var oversize = await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/work/reports", new byte[200_000]);
        var unchanged = await _jobs.Get<JobDetails>("/v1/jobs/probe", key);
        var started = await SendReport(node, Report(node, WorkReportKind.Started));
        var running = await _jobs.Get<JobDetails>("/v1/jobs/probe", key);

        Assert.Equal((HttpStatusCode.Unauthorized, "urn:depin:problem:bad-signature"), (forged.StatusCode, await Http.ProblemType(forged)));
        Assert.Equal((HttpStatusCode.NotFound, "urn:depin:problem:unknown-node"), (unknown.StatusCode, await Http.ProblemType(unknown)));
        Assert.Equal((HttpStatusCode.BadRequest, "waitSeconds"), (tooLong.StatusCode, string.Join(",", await JobApi.Fields(tooLong))));
        Assert.Equal((HttpStatusCode.BadRequest, "checkpoint"), (badCheckpoint.StatusCode, string.Join(",", await JobApi.Fields(badCheckpoint))));
        Assert.Equal((HttpStatusCode.NotFound, "urn:depin:problem:unknown-job"), (noSuchJob.StatusCode, await Http.ProblemType(noSuchJob)));
        Assert.Equal((HttpStatusCode.Conflict, "urn:depin:problem:superseded"), (notYours.StatusCode, await Http.ProblemType(notYours)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oversize.StatusCode);
        Assert.Equal((JobStatus.Placed, 0.0), (unchanged.Status, unchanged.Progress));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.Equal(JobStatus.Running, running.Status);
    }

    private static WorkPoll Poll(TestNode node) => new(node.Id, -1, 0, DateTimeOffset.UtcNow);

    private async Task<WorkSet> Work(TestNode node)
    {
        using var response = await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/work", TestNode.Json(Poll(node)));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<WorkSet>(ApiJson.Options))!;
    }

    private Task<HttpResponseMessage> SendReport(TestNode node, WorkReport report) =>
        node.Post(cluster.Http, $"/v1/nodes/{node.Id}/work/reports", TestNode.Json(report));

    private Task<JobDetails> Finished(string key, string id) =>
        Wait.Until(() => _jobs.Get<JobDetails>($"/v1/jobs/{id}", key), j => j.Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled,
            $"job {id} to finish", TimeSpan.FromSeconds(90));

    private async Task<TestNode> OnlineNode(string region)
    {
        var node = TestNode.Create(region: region, cpuCores: 4);
        (await node.Register(cluster.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
        (await node.Send(cluster.Http, node.Batch(1, DateTimeOffset.UtcNow))).EnsureSuccessStatusCode();
        await cluster.NodeWhen(node.Id, n => n.Status == NodeStatus.Online, "the node online");
        return node;
    }

    private List<string> KeyIds() => AgentKeys.NodeIds(_keys);

    public void Dispose()
    {
        if (Directory.Exists(_keys))
        {
            Directory.Delete(_keys, recursive: true);
        }
    }
}
