namespace DePIN.Core.Maintenance;

/// <summary>An online anomaly detector for one metric: one sample in, one score in [0, 1] out, constant memory.</summary>
public interface IAnomalyDetector
{
    double Score(double value);
}

/// <summary>How a <see cref="NoveltyDetector"/> learns and when it raises an alarm.</summary>
/// <param name="Levels">Quantisation levels of the range seen so far.</param>
/// <param name="Order">The longest context, in previous levels, a transition is remembered with.</param>
/// <param name="Scales">Time scales watched: every sample, then means of Factor, Factor², … samples.</param>
/// <param name="Factor">How many samples of one scale make one of the next.</param>
/// <param name="ScaleWeight">Each coarser scale weighs this much more than the one below it.</param>
/// <param name="ExceedGain">A sample beyond the range scores this times its overshoot, in widths of the range.</param>
/// <param name="Warmup">Samples learnt from before any score is given.</param>
/// <param name="Alarm">A score this high is an alarm.</param>
/// <param name="Rest">Samples scored 0 after an alarm, so one event raises one alarm.</param>
public sealed record NoveltyOptions(
    int Levels = 7, int Order = 3,
    int Scales = 4, int Factor = 4, double ScaleWeight = 1.5,
    double ExceedGain = 10,
    int Warmup = 750, double Alarm = 0.35, int Rest = 150);

/// <summary>
/// Scores how new a metric's latest behaviour is, at several time scales at once. At each scale (the raw samples, and
/// means over ever longer blocks) values are quantised into levels of the range seen so far, and a bit per possible
/// transition remembers which level has ever followed each context of 1 to <see cref="NoveltyOptions.Order"/> levels.
/// A scale's novelty is the share of context lengths under which the latest transition is new; the score is the
/// weighted mean over the scales, or more when the sample lies beyond every value seen before. A familiar rhythm
/// scores 0 however noisy it is; a new level, jump, shape or rhythm scores high, and sooner at the scale that sees it.
/// After an alarm the detector rests, as NAB's contextual detectors do. Memory is fixed: Levels^(k+1) bits per
/// context length k per scale: 1.4 KB of bits with the defaults, 2.6 KB allocated in all.
/// </summary>
public sealed class NoveltyDetector : IAnomalyDetector
{
    private readonly NoveltyOptions _options;
    private readonly Scale[] _scales;
    private readonly double[] _weights;
    private long _count;
    private double _low = double.PositiveInfinity;
    private double _high = double.NegativeInfinity;
    private int _resting;

    public NoveltyDetector(NoveltyOptions? options = null)
    {
        _options = options ?? new NoveltyOptions();
        if (_options.Levels < 2 || _options.Order < 1 || _options.Scales < 1 || _options.Factor < 2 || Math.Pow(_options.Levels, _options.Order + 1) > 1 << 24)
        {
            throw new ArgumentException("A novelty detector needs at least 2 levels, order 1, 1 scale and a factor of 2, and at most 2^24 transitions.", nameof(options));
        }

        _scales = new Scale[_options.Scales];
        _weights = new double[_options.Scales];
        var width = 1;
        for (var s = 0; s < _scales.Length; s++, width *= _options.Factor)
        {
            _scales[s] = new Scale(_options.Levels, _options.Order, width);
            _weights[s] = Math.Pow(_options.ScaleWeight, s);
        }

        var total = _weights.Sum();
        for (var s = 0; s < _weights.Length; s++)
        {
            _weights[s] /= total;
        }
    }

    public double Score(double value)
    {
        if (!double.IsFinite(value))
        {
            return 0.0;
        }

        var span = _high - _low;
        var overshoot = value < _low || value > _high
            ? (span > 0 ? Math.Max(_low - value, value - _high) / span : 1.0)
            : 0.0;
        _low = Math.Min(_low, value);
        _high = Math.Max(_high, value);

        var score = 0.0;
        for (var s = 0; s < _scales.Length; s++)
        {
            score += _weights[s] * _scales[s].Add(value, _low, _high);
        }

        if (overshoot > 0)
        {
            score = Math.Max(score, Math.Min(1.0, overshoot * _options.ExceedGain));
        }

        if (++_count <= _options.Warmup)
        {
            return 0.0;
        }

        if (_resting > 0)
        {
            _resting--;
            return 0.0;
        }

        if (score >= _options.Alarm)
        {
            _resting = _options.Rest;
        }

        return score;
    }

    /// <summary>One time scale: block means of <c>width</c> samples and the transitions between their levels.</summary>
    private sealed class Scale
    {
        private readonly int _levels;
        private readonly int _width;
        private readonly ulong[][] _seen;
        private readonly int[] _history;
        private double _sum;
        private int _filled;
        private long _blocks;

        public Scale(int levels, int order, int width)
        {
            _levels = levels;
            _width = width;
            _seen = new ulong[order][];
            for (var k = 1; k <= order; k++)
            {
                _seen[k - 1] = new ulong[((long)Math.Pow(levels, k + 1) + 63) / 64];
            }

            _history = new int[order];
        }

        /// <summary>The novelty of the block this sample completes, 0 while a block is filling.</summary>
        public double Add(double value, double low, double high)
        {
            _sum += value;
            if (++_filled < _width)
            {
                return 0.0;
            }

            var mean = _sum / _width;
            (_sum, _filled) = (0, 0);
            var level = high > low ? Math.Clamp((int)((mean - low) / (high - low) * _levels), 0, _levels - 1) : 0;

            var novel = 0;
            var orders = (int)Math.Min(_history.Length, _blocks);
            var transition = 0L;
            for (var k = 1; k <= orders; k++)
            {
                transition = (transition * _levels) + _history[k - 1];
                var index = (transition * _levels) + level;
                ref var word = ref _seen[k - 1][index >> 6];
                var bit = 1UL << (int)(index & 63);
                if ((word & bit) == 0)
                {
                    novel++;
                    word |= bit;
                }
            }

            Array.Copy(_history, 0, _history, 1, _history.Length - 1);
            _history[0] = level;
            _blocks++;
            return orders == 0 ? 0.0 : novel / (double)orders;
        }
    }
}
