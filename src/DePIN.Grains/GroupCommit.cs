namespace DePIN.Grains;

/// <summary>
/// Group commit for a reentrant grain's state: every change joins the next write, and a write starts only once the
/// previous one finished, so a burst of changes costs a few writes and each caller returns once its change is durable.
/// With a <paramref name="delay"/> (PostgreSQL's commit_delay) a write waits that long for more changes to join it:
/// for state that is large, fewer writes at a little more latency.
/// </summary>
public sealed class GroupCommit(Func<Task> write, TimeSpan delay = default)
{
    private Task _writing = Task.CompletedTask;
    private Task? _queued;

    /// <summary>The write that will carry changes made so far, if one is queued.</summary>
    public Task Pending => _queued ?? Task.CompletedTask;

    /// <summary>Completes once every change made before the call is durable.</summary>
    public Task Persist() => _queued ??= WriteAfter(_writing);

    private async Task WriteAfter(Task previous)
    {
        // Let this turn's callers, and with a delay those of the next few milliseconds, join the same write.
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay);
        }
        else
        {
            await Task.Yield();
        }

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
