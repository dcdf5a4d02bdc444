using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Scheduling;
using DePIN.Testing;

namespace DePIN.Grains.Tests;

/// <summary>
/// The scheduler grain runs <see cref="SchedulingPass"/>, the pass the schedule simulation runs: a queue of gangs of
/// mixed priorities and sizes, placed by the grain on a fleet of mixed machines, lands exactly where the pass run
/// directly on the same queue and fleet puts it, and the jobs the pass leaves waiting are the ones the grain leaves
/// queued.
/// </summary>
public sealed class SchedulingPassTests
{
    // Machines: cores, GPUs. The fleet cannot hold every job, so order and priority decide who waits.
    private static readonly (int Cores, int Gpus)[] Machines = [(8, 0), (16, 0), (8, 1), (16, 2), (4, 0), (32, 4)];

    // Jobs in submission order: replicas, cores, GPUs, priority.
    private static readonly (int Replicas, int Cores, int Gpus, int Priority)[] Jobs =
    [
        (2, 4, 0, 10), (1, 8, 1, 10), (3, 6, 0, 20), (1, 16, 0, 5), (2, 8, 2, 20), (4, 2, 0, 10), (1, 4, 1, 30), (2, 12, 0, 10), (3, 3, 0, 5),
    ];

    [Theory]
    [InlineData("first_fit")]
    [InlineData("least_loaded")]
    public async Task The_grain_places_a_queue_where_the_pass_run_directly_on_the_same_input_does(string policy)
    {
        await using var cluster = await NodeCluster.Start(new Dictionary<string, string?> { ["Scheduler:Policy"] = policy });
        var sdk = cluster.Sdk;

        // The jobs queue first, on an empty fleet, a second apart; then the fleet comes online, and the first pass that
        // sees it places the whole queue at once.
        var specs = Jobs.Select((j, i) => (Id: $"job-{i}", Spec: TestJob.Spec(j.Replicas, j.Cores, j.Gpus) with { Priority = j.Priority, MaxPricePerReplicaHour = 1000m }))
            .ToArray();
        var queue = new List<QueuedPlacement>();
        foreach (var (id, spec) in specs)
        {
            Assert.Equal(SubmitOutcome.Created, (await sdk.SubmitJobAsync("acme", id, spec)).Outcome);
            var key = JobKey.For("acme", id);
            var queuedAt = cluster.Time.GetUtcNow();
            queue.Add(new QueuedPlacement(key,
                new PlacementRequest(key, new Resources(spec.Resources.CpuCores, spec.Resources.MemoryBytes, spec.Resources.Gpus), 0, spec.Replicas,
                    TimeSpan.FromSeconds(spec.EstimatedSeconds), PlacementConstraints.None),
                spec.Priority, 1, queuedAt, queuedAt));
            cluster.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var nodes = await Online(cluster);

        // The pass on the same input: the same fleet in id order, the same queue, the same policy.
        var candidates = nodes.OrderBy(n => n.Id, StringComparer.Ordinal).Select(n => new NodeCandidate
        {
            NodeId = n.Id,
            Region = n.Capabilities.Region,
            Capacity = new Resources(n.Capabilities.CpuCores, n.Capabilities.MemoryBytes, n.Capabilities.Gpus.Length),
            GpuVramBytes = n.Capabilities.Gpus.Length > 0 ? n.Capabilities.Gpus[0].VramBytes : 0,
        }).ToList();
        IPlacementPolicy direct = policy == "first_fit" ? new FirstFitPolicy() : new LeastLoadedPolicy();
        var expected = new SchedulingPass(direct, new PassRules()).Run(SchedulingPass.InQueueOrder(queue), candidates,
            candidates.ToDictionary(c => c.NodeId), () => new Dictionary<string, Holding>(), new Dictionary<string, string>(), cluster.Time.GetUtcNow());
        var placed = expected.Placed.ToDictionary(p => p.Job.JobKey, p => p.Decision.Nodes.Order(StringComparer.Ordinal).ToArray());
        Assert.InRange(placed.Count, 3, Jobs.Length - 1); // some placed, some waiting: the test tells order apart

        var actual = await Wait.Until(async () =>
            {
                var jobs = await Task.WhenAll(specs.Select(s => sdk.GetJobAsync("acme", s.Id)));
                return jobs.Where(j => j!.Status != JobStatus.Queued).ToDictionary(
                    j => JobKey.For("acme", j!.JobId), j => j!.Assignments.Select(a => a.NodeId).Order(StringComparer.Ordinal).ToArray());
            },
            jobs => jobs.Count == placed.Count, $"{placed.Count} jobs placed");

        Assert.Equal(placed.Keys.Order(), actual.Keys.Order());
        Assert.All(placed, p => Assert.Equal(p.Value, actual[p.Key]));
    }

    /// <summary>Registers the machines, each reporting once, and moves the clock past the scheduler's directory refresh.</summary>
    private static async Task<TestNode[]> Online(NodeCluster cluster)
    {
        var nodes = Machines.Select(m =>
        {
            var node = TestNode.Create(region: "pass-1", cpuCores: m.Cores);
            return (node, node.Capabilities with { Gpus = [.. Enumerable.Repeat(new GpuInfo("NVIDIA L4", 24L << 30), m.Gpus)] });
        }).ToArray();
        foreach (var (node, capabilities) in nodes)
        {
            await cluster.Node(node.Id).Register(node.Registration(cluster.Time.GetUtcNow(), capabilities));
        }

        var agents = nodes.Select(n => new GrainAgent(cluster, n.node)).ToArray();
        await Fleet.Beat(cluster, agents);
        cluster.Time.Advance(TimeSpan.FromSeconds(6));
        await Fleet.Beat(cluster, agents);
        return [.. nodes.Select(n => n.node)];
    }
}
