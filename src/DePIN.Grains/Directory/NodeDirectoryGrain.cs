using Orleans.Concurrency;
using DePIN.Abstractions;
using DePIN.Abstractions.Nodes;
using DePIN.Grains.Diagnostics;

namespace DePIN.Grains.Directory;

[GenerateSerializer, Alias("DePIN.NodeDirectoryState")]
public sealed class NodeDirectoryState
{
    [Id(0)] public Dictionary<string, NodeSummary> Nodes { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// One shard of a region's directory: compact summaries the scheduler and listings read. Node grains update it on
/// status or capacity changes only. Concurrent updates share one storage write (group commit), so a burst of
/// changes costs a few writes, and each update returns once it is durable.
/// </summary>
[Reentrant]
public sealed class NodeDirectoryGrain(
    [PersistentState("directory", StorageNames.Directory)] IPersistentState<NodeDirectoryState> state,
    DePINMetrics metrics)
    : Grain, INodeDirectoryGrain, IRemindable
{
    // A durable reminder brings the shard back after its silo dies, so depin_nodes keeps counting it.
    private const string KeepActiveReminder = "keep-active";
    private readonly GroupCommit _commit = new(state.WriteStateAsync);

    private Dictionary<string, NodeSummary> Nodes => state.State.Nodes;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        ReportCounts();
        await this.RegisterOrUpdateReminder(KeepActiveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5));
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.ForgetNodeCounts(this.GetPrimaryKeyString());
        return _commit.Pending;
    }

    public Task Upsert(NodeSummary summary)
    {
        if (Nodes.TryGetValue(summary.NodeId, out var known) && known == summary)
        {
            return Task.CompletedTask;
        }

        Nodes[summary.NodeId] = summary;
        ReportCounts();
        return Persist();
    }

    public Task Remove(string nodeId)
    {
        if (!Nodes.Remove(nodeId))
        {
            return Task.CompletedTask;
        }

        ReportCounts();
        return Persist();
    }

    public ValueTask<NodeSummary[]> List(NodeQuery query)
    {
        IEnumerable<NodeSummary> nodes = Nodes.Values;
        if (query.Status is { } status)
        {
            nodes = nodes.Where(n => n.Status == status);
        }

        if (query.After is { } after)
        {
            nodes = nodes.Where(n => string.CompareOrdinal(n.NodeId, after) > 0);
        }

        return ValueTask.FromResult(nodes.OrderBy(n => n.NodeId, StringComparer.Ordinal).Take(query.Limit).ToArray());
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    private Task Persist() => _commit.Persist();

    private void ReportCounts()
    {
        var counts = new long[Enum.GetValues<NodeStatus>().Length];
        foreach (var node in Nodes.Values)
        {
            counts[(int)node.Status]++;
        }

        metrics.ReportNodeCounts(this.GetPrimaryKeyString(), counts);
    }
}
