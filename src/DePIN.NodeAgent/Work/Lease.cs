namespace DePIN.NodeAgent.Work;

/// <summary>
/// The agent's right to run work: renewed by every answer from the platform, lapsed after <see cref="Duration"/>
/// without one. It is shorter than the silence after which the platform declares the node offline and places its
/// work elsewhere, so by then this node has paused it: no slot ever runs on two nodes at once.
/// </summary>
public sealed class Lease(TimeProvider time, TimeSpan duration)
{
    private long _renewedAt = long.MinValue;
    private TaskCompletionSource _renewed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TimeSpan Duration => duration;

    public bool Valid => _renewedAt != long.MinValue && time.GetElapsedTime(Interlocked.Read(ref _renewedAt)) < duration;

    public void Renew()
    {
        Interlocked.Exchange(ref _renewedAt, time.GetTimestamp());
        Interlocked.Exchange(ref _renewed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Completes once the lease is valid.</summary>
    public async Task Held(CancellationToken cancellationToken)
    {
        while (!Valid)
        {
            await Volatile.Read(ref _renewed).Task.WaitAsync(cancellationToken);
        }
    }
}
