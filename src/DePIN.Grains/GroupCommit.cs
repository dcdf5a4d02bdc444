namespace DePIN.Grains;

/// <summary>
/// Group commit for a reentrant grain's state: every change joins the next write, and a write starts only once the
/// previous one finished, so a burst of changes costs a few writes and each caller returns once its change is durable.
/// </summary>
public sealed class GroupCommit(Func<Task> write)
{
    private Task _writing = Task.CompletedTask;
    private Task? _queued;

    /// <summary>The write that will carry changes made so far, if one is queued.</summary>
    public Task Pending => _queued ?? Task.CompletedTask;

    /// <summary>Completes once every change made before the call is durable.</summary>
    public Task Persist() => _queued ??= WriteAfter(_writing);

    private async Task WriteAfter(Task previous)
    {
        await Task.Yield(); // let this turn's callers join the same write
        try
        {
            await previous;
        }
        catch
        {
            // The earlier write's callers saw its failure; this write retries their changes too.
        }

        _queued = null;
        var current = write();
        _writing = current;
        await current;
    }
}
