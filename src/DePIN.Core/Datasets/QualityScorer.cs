using DePIN.Core.Scheduling;

namespace DePIN.Core.Datasets;

/// <summary>Tuning of <see cref="QualityScorer"/>.</summary>
/// <param name="RadiusKm">Peers are other contributors within this distance…</param>
/// <param name="Window">…whose samples are this close in time.</param>
/// <param name="MinPeers">A field is checked only against at least this many peers.</param>
/// <param name="MaxDeviation">A value agrees when it is within this many robust standard deviations of the peers' median.</param>
/// <param name="Decay">Weight an older check keeps at each new one, so a contributor can recover (and can decline).</param>
/// <param name="QuarantineBelow">A contributor whose score falls below this, with enough evidence, is quarantined…</param>
/// <param name="ReleaseAbove">…until it climbs back above this (hysteresis, so it does not flap).</param>
/// <param name="MinEvidence">Weighted checks a contributor needs before its score can quarantine it.</param>
/// <param name="PerCell">Recent observations kept per grid cell (about 0.5° square).</param>
/// <param name="MaxPeers">Most peers a reading is compared with: the latest readings first, which bounds the cost of a
/// check however dense the network.</param>
public sealed record QualityOptions(
    double RadiusKm = 50,
    TimeSpan Window = default,
    int MinPeers = 2,
    double MaxDeviation = 3.5,
    double Decay = 0.98,
    double QuarantineBelow = 0.5,
    double ReleaseAbove = 0.7,
    double MinEvidence = 10,
    int PerCell = 256,
    int MaxPeers = 32)
{
    public static QualityOptions Default { get; } = new(Window: TimeSpan.FromHours(1));
}

/// <summary>What one observation's check found.</summary>
/// <param name="Checked">Fields compared with enough peers.</param>
/// <param name="Outliers">Fields that disagreed with their peers.</param>
/// <param name="Score">The contributor's score after this check, 0 to 1.</param>
/// <param name="Quarantined">Whether the contributor is quarantined after this check.</param>
/// <param name="QuarantineChanged">Whether this check put the contributor into quarantine or released it.</param>
public sealed record QualityVerdict(int Checked, IReadOnlyList<string> Outliers, double Score, bool Quarantined, bool QuarantineChanged);

/// <summary>
/// Scores contributors by how well their readings agree with nearby contributors measuring the same quantity at about
/// the same time (the idea of WeatherXM's quality-of-data checks). Each numeric field of an observation is compared
/// with the latest value of every other contributor within <see cref="QualityOptions.RadiusKm"/> and
/// <see cref="QualityOptions.Window"/>: it agrees when it lies within <see cref="QualityOptions.MaxDeviation"/> robust
/// standard deviations (1.4826 × the median absolute deviation, never below the field's floor) of their median.
/// A reading agrees when all its checked fields do. A contributor's score is its decayed share of agreeing readings, (agreed + 1) / (checked + 2), so a newcomer starts
/// at 0.5 and evidence moves it. Memory is bounded: recent observations per grid cell. Not thread-safe.
/// </summary>
public sealed class QualityScorer(QualityOptions? options = null)
{
    private const double CellDegrees = 0.5;
    private const double KmPerDegree = 111.2;
    private readonly QualityOptions _options = options ?? QualityOptions.Default;
    private readonly Dictionary<(int, int), Ring> _cells = [];
    private readonly Dictionary<string, Standing> _contributors = new(StringComparer.Ordinal);

    /// <summary>The contributor's score (0.5 before any check).</summary>
    public double Score(string contributor) => _contributors.TryGetValue(contributor, out var s) ? s.Score : 0.5;

    public bool IsQuarantined(string contributor) => _contributors.TryGetValue(contributor, out var s) && s.Quarantined;

    /// <summary>Contributors in quarantine now.</summary>
    public int QuarantinedCount { get; private set; }

    /// <summary>An operator's override: out of quarantine, with its evidence reset to a newcomer's.</summary>
    public void Release(string contributor)
    {
        if (_contributors.Remove(contributor, out var standing) && standing.Quarantined)
        {
            QuarantinedCount--;
        }
    }

    /// <summary>
    /// Checks an observation against its peers, updates its contributor's score and remembers it for later checks.
    /// <paramref name="floors"/> gives each field's smallest spread (e.g. a sensor's resolution); fields without one
    /// use 1 % of the peers' median magnitude.
    /// </summary>
    public QualityVerdict Observe(
        string contributor, DateTimeOffset at, double latitude, double longitude,
        IReadOnlyDictionary<string, double> values, IReadOnlyDictionary<string, double>? floors = null)
    {
        var peers = Peers(contributor, at, latitude, longitude);
        var outliers = new List<string>();
        var checkedFields = 0;
        foreach (var (field, value) in values)
        {
            var samples = peers.Where(p => p.Values.ContainsKey(field)).Select(p => p.Values[field]).ToArray();
            if (samples.Length < _options.MinPeers)
            {
                continue;
            }

            checkedFields++;
            var median = Median(samples);
            var mad = Median([.. samples.Select(v => Math.Abs(v - median))]);
            var floor = floors is not null && floors.TryGetValue(field, out var f) ? f : (0.01 * Math.Abs(median)) + 1e-9;
            var spread = Math.Max(1.4826 * mad, floor);
            if (Math.Abs(value - median) > _options.MaxDeviation * spread)
            {
                outliers.Add(field);
            }
        }

        var standing = _contributors.TryGetValue(contributor, out var known) ? known : new Standing();
        var changed = false;
        if (checkedFields > 0)
        {
            // A reading agrees only when every checked field does: one wrong field makes a wrong reading.
            standing.Agreed = (standing.Agreed * _options.Decay) + (outliers.Count == 0 ? 1 : 0);
            standing.Checked = (standing.Checked * _options.Decay) + 1;
            var before = standing.Quarantined;
            if (!standing.Quarantined && standing.Checked >= _options.MinEvidence && standing.Score < _options.QuarantineBelow)
            {
                standing.Quarantined = true;
            }
            else if (standing.Quarantined && standing.Score > _options.ReleaseAbove)
            {
                standing.Quarantined = false;
            }

            changed = before != standing.Quarantined;
            QuarantinedCount += changed ? (standing.Quarantined ? 1 : -1) : 0;
            _contributors[contributor] = standing;
        }

        Remember(new Observation(contributor, at, latitude, longitude, values));
        return new QualityVerdict(checkedFields, outliers, standing.Score, standing.Quarantined, changed);
    }

    /// <summary>The latest observation of each other contributor within the radius and window.</summary>
    private List<Observation> Peers(string contributor, DateTimeOffset at, double latitude, double longitude)
    {
        var latest = new Dictionary<string, Observation>(StringComparer.Ordinal);
        var (row, column) = Cell(latitude, longitude);
        var rows = (int)Math.Ceiling(_options.RadiusKm / (KmPerDegree * CellDegrees));
        var cosine = Math.Max(0.01, Math.Cos(latitude * Math.PI / 180));
        var columns = Math.Min((int)(360 / CellDegrees), (int)Math.Ceiling(_options.RadiusKm / (KmPerDegree * cosine * CellDegrees)));
        for (var r = row - rows; r <= row + rows; r++)
        {
            for (var c = column - columns; c <= column + columns; c++)
            {
                if (!_cells.TryGetValue((r, Wrap(c)), out var cell))
                {
                    continue;
                }

                foreach (var o in cell.NewestFirst())
                {
                    if (latest.Count >= _options.MaxPeers)
                    {
                        break;
                    }

                    if (o.Contributor != contributor && (o.At - at).Duration() <= _options.Window
                        && Geo.DistanceKm(latitude, longitude, o.Latitude, o.Longitude) <= _options.RadiusKm
                        && (!latest.TryGetValue(o.Contributor, out var seen) || (o.At - at).Duration() < (seen.At - at).Duration()))
                    {
                        latest[o.Contributor] = o;
                    }
                }
            }
        }

        return [.. latest.Values];
    }

    private void Remember(Observation observation)
    {
        var key = Cell(observation.Latitude, observation.Longitude);
        if (!_cells.TryGetValue(key, out var cell))
        {
            _cells[key] = cell = new Ring(_options.PerCell);
        }

        cell.Add(observation);
    }

    private static (int Row, int Column) Cell(double latitude, double longitude) =>
        ((int)Math.Floor(latitude / CellDegrees), Wrap((int)Math.Floor(longitude / CellDegrees)));

    private static int Wrap(int column)
    {
        var count = (int)(360 / CellDegrees);
        return ((column % count) + count) % count;
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        var mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    private sealed record Observation(string Contributor, DateTimeOffset At, double Latitude, double Longitude, IReadOnlyDictionary<string, double> Values);

    /// <summary>The latest observations of one cell, overwriting the oldest.</summary>
    private sealed class Ring(int capacity)
    {
        private readonly Observation[] _items = new Observation[capacity];
        private int _next;
        private int _count;

        public void Add(Observation observation)
        {
            _items[_next] = observation;
            _next = (_next + 1) % _items.Length;
            _count = Math.Min(_count + 1, _items.Length);
        }

        public IEnumerable<Observation> NewestFirst()
        {
            for (var i = 1; i <= _count; i++)
            {
                yield return _items[(_next - i + _items.Length) % _items.Length];
            }
        }
    }

    private sealed class Standing
    {
        public double Agreed { get; set; }

        public double Checked { get; set; }

        public bool Quarantined { get; set; }

        public double Score => (Agreed + 1) / (Checked + 2);
    }
}
