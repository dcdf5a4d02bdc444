namespace DePIN.Core.Maintenance;

/// <summary>An online anomaly detector for one metric: one value in, one score in [0, 1] out, constant memory.</summary>
public interface IAnomalyDetector
{
    double Score(double value);
}

/// <summary>How a <see cref="NoveltyDetector"/> learns.</summary>
/// <param name="Levels">Quantisation levels of the value range.</param>
/// <param name="Order">The longest context (previous levels) a transition is remembered with.</param>
/// <param name="Warmup">Values seen before any score is given; the range is learnt over them.</param>
/// <param name="Rest">After a score at or above <paramref name="Alarm"/>, scores stay 0 for this many values.</param>
/// <param name="Alarm">A score this high starts a rest.</param>
public sealed record NoveltyOptions(int Levels = 8, int Order = 3, int Warmup = 150, int Rest = 120, double Alarm = 0.75);

/// <summary>
/// Scores how new the latest value is in the context of the values before it. Values are quantised into
/// <see cref="NoveltyOptions.Levels"/> levels of the range seen so far; the detector remembers, for contexts of 1 to
/// <see cref="NoveltyOptions.Order"/> previous levels, which next level has followed each. The score is the share of
/// context orders under which the transition has never been seen (a value beyond the range counts as new under every
/// order), so a level, a jump or a rhythm the metric never showed scores high and a familiar pattern scores 0.
/// Memory is a bit per possible transition: Levels^(Order+1) bits, 512 bytes with the defaults.
/// </summary>
public sealed class NoveltyDetector : IAnomalyDetector
{
    private readonly NoveltyOptions _options;
    private readonly ulong[][] _seen;
    private readonly int[] _history;
    private long _count;
    private double _low = double.PositiveInfinity;
    private double _high = double.NegativeInfinity;
    private int _rest;

    public NoveltyDetector(NoveltyOptions? options = null)
    {
        _options = options ?? new NoveltyOptions();
        _seen = new ulong[_options.Order][];
        for (var k = 1; k <= _options.Order; k++)
        {
            var transitions = (long)Math.Pow(_options.Levels, k + 1);
            _seen[k - 1] = new ulong[(transitions + 63) / 64];
        }

        _history = new int[_options.Order];
    }

    public double Score(double value)
    {
        var outside = value < _low || value > _high;
        if (outside)
        {
            _low = Math.Min(_low, value);
            _high = Math.Max(_high, value);
        }

        var level = Level(value);
        var novel = 0;
        var orders = (int)Math.Min(_options.Order, _count);
        var context = 0L;
        for (var k = 1; k <= orders; k++)
        {
            context = (context * _options.Levels) + _history[k - 1];
            var transition = (context * _options.Levels) + level;
            ref var word = ref _seen[k - 1][transition >> 6];
            var bit = 1UL << (int)(transition & 63);
            if ((word & bit) == 0)
            {
                novel++;
                word |= bit;
            }
        }

        Array.Copy(_history, 0, _history, 1, _history.Length - 1);
        _history[0] = level;
        _count++;

        var score = outside ? 1.0 : orders == 0 ? 0.0 : novel / (double)orders;
        if (_count <= _options.Warmup)
        {
            return 0.0;
        }

        if (_rest > 0)
        {
            _rest--;
            return 0.0;
        }

        if (score >= _options.Alarm)
        {
            _rest = _options.Rest;
        }

        return score;
    }

    private int Level(double value)
    {
        var span = _high - _low;
        if (span <= 0)
        {
            return 0;
        }

        var level = (int)((value - _low) / span * _options.Levels);
        return Math.Clamp(level, 0, _options.Levels - 1);
    }
}
