using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Work;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>A real agent process dies mid-job: its node goes offline and the job finishes on another agent's node.</summary>
public sealed class NodeLossTests(PostgresServer postgres) : IAsyncLifetime
{
    private const long Steps = 6_000_000; // several seconds of one core
    private readonly string _keys = Path.Combine(Path.GetTempPath(), $"depin-loss-{Guid.NewGuid():N}");
    private ServiceProcess _silo = null!;

    public async ValueTask InitializeAsync()
    {
        // Liveness in half-second intervals: a silent node is offline after 3 s.
        var settings = new Dictionary<string, string>(SiloOnPostgres.Settings) { ["Nodes:TelemetryInterval"] = "00:00:00.5" };
        _silo = await ServiceProcess.StartSilo(await postgres.CreateDatabase(), $"loss-{Guid.NewGuid():N}", settings);
    }

    [Fact]
    public async Task Killing_the_agent_of_a_running_jobs_node_moves_the_job_to_another_node_where_it_finishes()
    {
        await using var first = await Agent("a");
        await using var second = await Agent("b");
        var ids = new Dictionary<string, ServiceProcess> { [await NodeOf("a")] = first, [await NodeOf("b")] = second };
        await Wait.Until(() => Task.WhenAll(ids.Keys.Select(Node)), n => n.All(x => x?.Status == NodeStatus.Online), "both nodes online");
        var jobs = new JobApi(_silo.Http);
        var key = await jobs.NewTenant();
        var spec = TestJob.Spec(replicas: 1, cpuCores: 1) with { Batch = new BatchWork(5, Steps) };

        (await jobs.Send(HttpMethod.Put, "/v1/jobs/long", key, spec)).EnsureSuccessStatusCode();
        var checkpointed = await Wait.Until(() => jobs.Get<JobDetails>("/v1/jobs/long", key),
            j => j.Checkpoints.Length == 1 && j.Status == JobStatus.Running, "the job running with a checkpoint");
        var lost = checkpointed.Assignments[0].NodeId;
        await ids[lost].Kill();
        var moved = await Wait.Until(() => jobs.Get<JobDetails>("/v1/jobs/long", key), j => j.Attempts == 2, "the job placed again");
        var done = await Wait.Until(() => jobs.Get<JobDetails>("/v1/jobs/long", key), j => j.Status == JobStatus.Succeeded,
            "the job to finish on the other node", TimeSpan.FromMinutes(2));

        Assert.Equal(NodeStatus.Offline, (await Node(lost))!.Status);
        Assert.NotEqual(lost, moved.Assignments.Single().NodeId);
        Assert.Equal(BatchKernel.Result(5, 0, Steps), done.Result);
        Assert.True(done.Checkpoints[0].Step >= checkpointed.Checkpoints[0].Step);
        var metrics = await _silo.Http.GetStringAsync("/metrics");
        Assert.Equal(1, MetricsText.Value(metrics, "depin_job_interruptions_total", ("reason", "node_offline")));
    }

    private Task<ServiceProcess> Agent(string name) => ServiceProcess.StartAgent(
        "--api", _silo.Http.BaseAddress!.ToString(), "--simulate", "1", "--interval", "0.2", "--key-dir", Path.Combine(_keys, name));

    private async Task<string> NodeOf(string name) =>
        (await Wait.Until(() => Task.FromResult(AgentKeys.NodeIds(Path.Combine(_keys, name))), ids => ids.Count == 1, $"agent {name}'s key file"))[0];

    private Task<NodeDetails?> Node(string id) => _silo.Http.Find<NodeDetails>($"/v1/nodes/{id}");

    public async ValueTask DisposeAsync()
    {
        await _silo.DisposeAsync();
        if (Directory.Exists(_keys))
        {
            Directory.Delete(_keys, recursive: true);
        }
    }
}
