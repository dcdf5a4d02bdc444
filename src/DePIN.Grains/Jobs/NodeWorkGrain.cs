using DePIN.Abstractions;
using DePIN.Abstractions.Jobs;

namespace DePIN.Grains.Jobs;

[GenerateSerializer, Alias("DePIN.NodeWorkState")]
public sealed class NodeWorkState
{
    [Id(0)] public long Version { get; set; }
    [Id(1)] public List<WorkItem> Items { get; set; } = [];
}

/// <summary>
/// A node's inbox: the slots its agent should run. Job grains change it; the agent long-polls it, and each poll
/// returns as soon as the set changes. Every change is written before it is visible.
/// </summary>
public sealed class NodeWorkGrain(
    [PersistentState("work", StorageNames.Jobs)] IPersistentState<NodeWorkState> state,
    PlatformClock clock)
    : Grain, INodeWorkGrain
{
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WorkSet? _durable; // what polls see: only what has been written

    private NodeWorkState Inbox => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _durable = new WorkSet(Inbox.Version, [.. Inbox.Items]);
        return Task.CompletedTask;
    }

    public Task Assign(WorkItem item)
    {
        var existing = Inbox.Items.FindIndex(i => i.JobKey == item.JobKey && i.Slot == item.Slot);
        if (existing >= 0 && Inbox.Items[existing].Attempt >= item.Attempt)
        {
            return Task.CompletedTask; // already there (a re-dispatch), or superseded by a later attempt
        }

        // A job's slot moves to a new attempt: the old one goes.
        Inbox.Items.RemoveAll(i => i.JobKey == item.JobKey && i.Attempt < item.Attempt);
        Inbox.Items.Add(item);
        return Changed();
    }

    public Task Stop(string jobKey, int attempt)
    {
        var changed = false;
        for (var i = 0; i < Inbox.Items.Count; i++)
        {
            if (Inbox.Items[i] is { Stop: false } item && item.JobKey == jobKey && item.Attempt == attempt)
            {
                Inbox.Items[i] = item with { Stop = true };
                changed = true;
            }
        }

        return changed ? Changed() : Task.CompletedTask;
    }

    public Task Withdraw(string jobKey, int attempt) =>
        Inbox.Items.RemoveAll(i => i.JobKey == jobKey && i.Attempt <= attempt) > 0 ? Changed() : Task.CompletedTask;

    public async Task<WorkSet> Poll(long version, TimeSpan wait)
    {
        if (version == _durable!.Version && wait > TimeSpan.Zero)
        {
            using var done = new CancellationTokenSource();
            await Task.WhenAny(_changed.Task, Task.Delay(wait, clock.Time, done.Token));
            await done.CancelAsync();
        }

        return _durable!;
    }

    private async Task Changed()
    {
        Inbox.Version++;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Back to what is durable, so the caller's retry finds the change still to make (and writes it).
            Inbox.Version = _durable!.Version;
            Inbox.Items = [.. _durable.Items];
            throw;
        }

        _durable = new WorkSet(Inbox.Version, [.. Inbox.Items]);
        var changed = _changed;
        _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}
