namespace DePIN.Core.Scheduling;

/// <summary>
/// A node's recent availability history, bounded: the lengths and end hours of its last
/// <see cref="MaxSessions"/> sessions (a session runs from coming up to going down) and the start of the current one.
/// Fed with the node's transitions; read by <see cref="AvailabilityPredictor"/>.
/// </summary>
public sealed class NodeAvailability
{
    /// <summary>How many past sessions are remembered.</summary>
    public const int MaxSessions = 32;

    private readonly double[] _hours = new double[MaxSessions];
    private readonly byte[] _endHour = new byte[MaxSessions];
    private int _next;

    /// <summary>Completed sessions remembered, up to <see cref="MaxSessions"/>.</summary>
    public int Sessions { get; private set; }

    /// <summary>When the current session began; null while the node is down.</summary>
    public DateTimeOffset? UpSince { get; private set; }

    /// <summary>Changes whenever the history does, so cached posteriors know when to refresh.</summary>
    public int Version { get; private set; }

    internal double CachedShape = double.NaN;
    internal int CachedVersion = -1;
    internal double CachedAlpha;
    internal double CachedBeta;
    internal readonly double[] CachedHourWeights = new double[24];

    public void CameUp(DateTimeOffset at)
    {
        UpSince ??= at;
        Version++;
    }

    public void WentDown(DateTimeOffset at)
    {
        if (UpSince is { } since && at > since)
        {
            _hours[_next] = (at - since).TotalHours;
            _endHour[_next] = (byte)at.UtcDateTime.Hour;
            _next = (_next + 1) % MaxSessions;
            Sessions = Math.Min(Sessions + 1, MaxSessions);
        }

        UpSince = null;
        Version++;
    }

    /// <summary>Completed sessions, most recent first: length in hours and the UTC hour it ended.</summary>
    public IEnumerable<(double Hours, int EndHourUtc)> Recent()
    {
        for (var i = 1; i <= Sessions; i++)
        {
            var index = (_next - i + MaxSessions) % MaxSessions;
            yield return (_hours[index], _endHour[index]);
        }
    }

    internal double SessionHours(int recency) => _hours[(_next - 1 - recency + 2 * MaxSessions) % MaxSessions];

    internal int SessionEndHour(int recency) => _endHour[(_next - 1 - recency + 2 * MaxSessions) % MaxSessions];
}
