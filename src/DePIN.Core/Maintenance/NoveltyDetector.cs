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
/// <param name="RateBlocks">A scale's novelty counts as much as novelty has been rare at that scale: it is weighed by one
/// minus the scale's mean novelty over its blocks so far, the last <c>RateBlocks</c> of them weighing most. 0 turns it off.</param>
public sealed record NoveltyOptions(
    int Levels = 7, int Order = 3,
    int Scales = 4, int Factor = 4, double ScaleWeight = 1,
    double ExceedGain = 10,
    int Warmup = 750, double Alarm = 0.25, int Rest = 150,
    int RateBlocks = 64)
{
    /// <summary>As NAB runs a detector: learning over the file's probationary rows, resting a fifth of them after an alarm.</summary>
    public NoveltyOptions ForProbation(int probationaryRows) => this with { Warmup = probationaryRows, Rest = probationaryRows / 5 };
}

/// <summary>
/// Scores how new a metric's latest behaviour is, at several time scales at once. At each scale (the raw samples, and
/// means over ever longer blocks) values are quantised into levels of the range seen so far, and a bit per possible
/// transition remembers which level has ever followed each context of 1 to <see cref="NoveltyOptions.Order"/> levels.
/// A scale's novelty is the share of context lengths under which the latest transition is new, weighed by how rare
/// novelty has been at that scale (a scale that is still learning, as the coarse ones are for long, finds most
/// transitions new, and a new one says little there); the score is the weighted mean over the scales, or more when
/// the sample lies beyond every value seen before. A familiar rhythm
/// scores 0 however noisy it is; a new level, jump, shape or rhythm scores high, and sooner at the scale that sees it.
/// After an alarm the detector rests, as NAB's contextual detectors do. Memory is fixed: Levels^(k+1) bits per
/// context length k per scale: 1.4 KB of bits with the defaults, 1.9 KB allocated in all.
/// </summary>
public sealed class NoveltyDetector : IAnomalyDetector
{
    private readonly NoveltyOptions _options;
    private readonly double[] _weights;

    // Every scale's transition bits in one array: scale s, context length k at _bits[s * _wordsPerScale + _offsets[k - 1]].
    private readonly ulong[] _bits;
    private readonly int[] _offsets;
    private readonly int _wordsPerScale;

    // Every scale's last levels, most recent first: scale s at _history[s * Order ..].
    private readonly int[] _history;

    private readonly Block[] _blocks;
    private long _count;
    private double _low = double.PositiveInfinity;
    private double _high = double.NegativeInfinity;
    private int _resting;

    public NoveltyDetector(NoveltyOptions? options = null)
    {
        _options = options ?? new NoveltyOptions();
        if (_options.Levels < 2 || _options.Order < 1 || _options.Scales < 1 || _options.Factor < 2 || _options.RateBlocks < 0 ||
            Math.Pow(_options.Levels, _options.Order + 1) > 1 << 24)
        {
            throw new ArgumentException("A novelty detector needs at least 2 levels, order 1, 1 scale, a factor of 2 and no negative RateBlocks, and at most 2^24 transitions.", nameof(options));
        }

        _offsets = new int[_options.Order];
        for (var k = 1; k <= _options.Order; k++)
        {
            _offsets[k - 1] = _wordsPerScale;
            _wordsPerScale += (int)((Math.Pow(_options.Levels, k + 1) + 63) / 64);
        }

        _bits = new ulong[_wordsPerScale * _options.Scales];
        _history = new int[_options.Order * _options.Scales];
        _blocks = new Block[_options.Scales];
        _weights = new double[_options.Scales];
        var width = 1;
        for (var s = 0; s < _options.Scales; s++, width *= _options.Factor)
        {
            _blocks[s].Width = width;
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
        for (var s = 0; s < _blocks.Length; s++)
        {
            score += _weights[s] * Novelty(s, value);
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

    /// <summary>The novelty at scale <paramref name="s"/> of the block this sample completes, 0 while a block is filling.</summary>
    private double Novelty(int s, double value)
    {
        ref var block = ref _blocks[s];
        block.Sum += value;
        if (++block.Filled < block.Width)
        {
            return 0.0;
        }

        var mean = block.Sum / block.Width;
        (block.Sum, block.Filled) = (0, 0);
        var levels = _options.Levels;
        var level = _high > _low ? Math.Clamp((int)((mean - _low) / (_high - _low) * levels), 0, levels - 1) : 0;

        var history = _history.AsSpan(s * _options.Order, _options.Order);
        var bits = _bits.AsSpan(s * _wordsPerScale, _wordsPerScale);
        var novel = 0;
        var orders = (int)Math.Min(history.Length, block.Count);
        var transition = 0L;
        for (var k = 1; k <= orders; k++)
        {
            transition = (transition * levels) + history[k - 1];
            var index = (transition * levels) + level;
            ref var word = ref bits[_offsets[k - 1] + (int)(index >> 6)];
            var bit = 1UL << (int)(index & 63);
            if ((word & bit) == 0)
            {
                novel++;
                word |= bit;
            }
        }

        history[..^1].CopyTo(history[1..]);
        history[0] = level;
        block.Count++;
        var novelty = orders == 0 ? 0.0 : novel / (double)orders;
        if (_options.RateBlocks == 0)
        {
            return novelty;
        }

        var rarity = 1.0 - block.NoveltyRate;
        block.NoveltyRate += (novelty - block.NoveltyRate) / Math.Min(block.Count, _options.RateBlocks);
        return novelty * rarity;
    }

    /// <summary>One time scale's block of samples being averaged, and how many blocks it has seen.</summary>
    private struct Block
    {
        public int Width;
        public int Filled;
        public double Sum;
        public long Count;

        /// <summary>The scale's mean novelty over its blocks so far, the last <see cref="NoveltyOptions.RateBlocks"/> weighing most.</summary>
        public double NoveltyRate;
    }
}
