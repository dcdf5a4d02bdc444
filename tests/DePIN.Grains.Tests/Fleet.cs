using DePIN.Abstractions.Jobs;
using DePIN.Core.Work;
using DePIN.Testing;

namespace DePIN.Grains.Tests;

/// <summary>Online nodes for job tests, each with an agent the test plays.</summary>
public static class Fleet
{
    /// <summary>Registers <paramref name="count"/> nodes in a region and beats until the scheduler's directory lists them online.</summary>
    public static async Task<GrainAgent[]> Online(NodeCluster cluster, string region, int count)
    {
        var agents = Enumerable.Range(0, count).Select(_ => new GrainAgent(cluster, TestNode.Create(region: region))).ToArray();
        foreach (var agent in agents)
        {
            await cluster.Node(agent.Id).Register(agent.Node.Registration(cluster.Time.GetUtcNow()));
        }

        await Beat(cluster, agents);
        cluster.Time.Advance(TimeSpan.FromSeconds(6)); // past the scheduler's directory refresh
        await Beat(cluster, agents);
        return agents;
    }

    /// <summary>The lost node falls silent while the others keep reporting, until it is offline (6 intervals of 5 s).</summary>
    public static async Task Silence(NodeCluster cluster, GrainAgent lost, params GrainAgent[] others)
    {
        for (var step = 0; step < 4; step++)
        {
            cluster.Time.Advance(TimeSpan.FromSeconds(8));
            await Beat(cluster, others);
        }

        await Wait.Until(() => cluster.Node(lost.Id).GetDetails().AsTask(),
            n => n!.Status == Abstractions.Nodes.NodeStatus.Offline, $"node {lost.Id} offline");
    }

    /// <summary>One batch from each node, sequenced by the clock; returns once every node has taken its batch.</summary>
    public static async Task Beat(NodeCluster cluster, params GrainAgent[] agents)
    {
        var now = cluster.Time.GetUtcNow();
        var sequence = now.ToUnixTimeMilliseconds();
        foreach (var agent in agents)
        {
            await cluster.Report(agent.Node.Batch(sequence, now));
            await Wait.Until(() => cluster.Node(agent.Id).GetDetails().AsTask(), n => n!.LastSequence == sequence, $"batch {sequence} of {agent.Id}");
        }
    }
}

/// <summary>A node's agent as the test plays it: reads the node's inbox, computes the real kernel, reports.</summary>
public sealed class GrainAgent(NodeCluster cluster, TestNode node)
{
    public TestNode Node { get; } = node;

    public string Id => Node.Id;

    /// <summary>The inbox once it holds a slot of the job's given attempt (the job dispatches right after it says placed).</summary>
    public async Task<WorkItem> Next(string jobId, int attempt = 1) =>
        (await Wait.Until(Work, items => items.Any(i => i.JobKey.EndsWith("/" + jobId, StringComparison.Ordinal) && i.Attempt == attempt),
            $"attempt {attempt} of {jobId} in node {Id}'s inbox"))
        .Single(i => i.JobKey.EndsWith("/" + jobId, StringComparison.Ordinal) && i.Attempt == attempt);

    public async Task<WorkItem[]> Work() => (await cluster.Client.GetGrain<INodeWorkGrain>(Id).Poll(-1, TimeSpan.Zero)).Items;

    public Task<ReportOutcome> Report(
        WorkItem item, WorkReportKind kind, long step, BatchKernel.Progress? checkpoint = null, string? result = null, string? error = null)
    {
        var saved = checkpoint is { } p ? p.ToCheckpoint() : null;
        var cp = saved is null ? null : new WorkCheckpoint(checkpoint!.Value.Step, BatchKernel.ContentHash(saved), saved);
        return cluster.Client.GetGrain<IJobGrain>(item.JobKey)
            .Report(new WorkReport(Id, item.JobKey, item.Slot, item.Attempt, kind, step, cp, result, error, cluster.Time.GetUtcNow()));
    }

    /// <summary>The kernel run for the item's shard up to <paramref name="step"/>, from the start or from a checkpoint.</summary>
    public static BatchKernel.Progress RunTo(WorkItem item, long step, BatchKernel.Progress? from = null) =>
        BatchKernel.Advance(from ?? BatchKernel.Start(item.Batch!.Seed, item.Shard), step, step);
}
