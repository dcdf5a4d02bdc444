namespace DePIN.NodeAgent.Work;

/// <summary>Exponential backoff between retries: <c>first</c>, doubling up to <c>max</c>, until <see cref="Reset"/>.</summary>
public sealed class Backoff
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _first;
    private readonly TimeSpan _max;
    private TimeSpan _next;

    public Backoff(TimeProvider time, TimeSpan first, TimeSpan max)
    {
        _time = time;
        _first = _next = first;
        _max = max;
    }

    public async Task Wait(CancellationToken cancellationToken)
    {
        await Task.Delay(_next, _time, cancellationToken);
        _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, _max.Ticks));
    }

    public void Reset() => _next = _first;
}
