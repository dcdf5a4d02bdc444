namespace DePIN.Simulation.Nab;

/// <summary>What one threshold scores on a file or a corpus: NAB's raw score and row counts.</summary>
public readonly record struct NabResult(double Threshold, double Score, int Tp, int Tn, int Fp, int Fn, int Total);

/// <summary>
/// A detector's scores on one file, ready to score: for every row after the probationary period, its anomaly score,
/// the weight NAB gives it if it is flagged and the window it falls in (corpus-wide id, or -1 outside every window).
/// </summary>
public sealed class SweptFile
{
    internal SweptFile(string name, int rows, double[] anomaly, double[] weight, int[] window, int[] windows)
    {
        Name = name;
        Rows = rows;
        Anomaly = anomaly;
        Weight = weight;
        Window = window;
        Windows = windows;
    }

    public string Name { get; }

    /// <summary>Every row of the file, the probationary ones included (NAB's Total_Count).</summary>
    public int Rows { get; }

    internal double[] Anomaly { get; }

    internal double[] Weight { get; }

    internal int[] Window { get; }

    /// <summary>The windows with at least one scored row; a window wholly inside the probationary period is not scored.</summary>
    internal int[] Windows { get; }
}

/// <summary>
/// The NAB scoring algorithm (Lavin and Ahmad, "Evaluating Real-time Anomaly Detection Algorithms", 2015, and NAB's
/// sweeper), for one cost profile:
/// <list type="bullet">
/// <item>the first 15 % of a file (at most 750 rows) is a probationary period that is never scored;</item>
/// <item>a flagged row inside a window earns the scaled sigmoid of its position, 2σ(−5x) − 1 with x from −1 at the
/// window's left edge to 0 at its right edge, normalised so the left edge earns <c>tpWeight</c>; a window scores the
/// best of its flagged rows, or <c>−fnWeight</c> if none is flagged;</item>
/// <item>a flagged row outside every window costs <c>fpWeight</c> times the same sigmoid of its distance past the
/// previous window (in that window's widths), or the full <c>fpWeight</c> when no window precedes it;</item>
/// <item>a row is flagged when its score is at least the threshold; the threshold is chosen to maximise the score
/// over the whole corpus.</item>
/// </list>
/// </summary>
public sealed class NabScorer(NabProfile profile, double probationPercent = 0.15)
{
    private static readonly double MaxTp = ScaledSigmoid(-1.0);

    public NabProfile Profile { get; } = profile;

    /// <summary>NAB's scaled sigmoid: 2σ(−5x) − 1, and −1 beyond three window widths.</summary>
    public static double ScaledSigmoid(double position) =>
        position > 3.0 ? -1.0 : (2.0 / (1.0 + Math.Exp(5.0 * position))) - 1.0;

    /// <summary>Rows before this index are probationary: 15 % of the file, at most 15 % of 5,000 rows.</summary>
    public int ProbationaryRows(int rows) => (int)Math.Ceiling(Math.Min(Math.Floor(probationPercent * rows), probationPercent * 5000));

    /// <summary>Weighs each scored row of <paramref name="file"/>; windows are numbered from <paramref name="firstWindowId"/>.</summary>
    public SweptFile Sweep(NabFile file, double[] anomalyScores, int firstWindowId = 0)
    {
        if (anomalyScores.Length != file.Timestamps.Length)
        {
            throw new ArgumentException($"{file.Name}: {anomalyScores.Length} scores for {file.Timestamps.Length} rows.", nameof(anomalyScores));
        }

        var windows = file.WindowRows();
        var first = ProbationaryRows(file.Timestamps.Length);
        var count = Math.Max(0, file.Timestamps.Length - first);
        var anomaly = new double[count];
        var weight = new double[count];
        var window = new int[count];
        var scored = new SortedSet<int>();

        var next = 0;            // the next window to reach
        var previous = -1;       // the last window passed
        for (var row = 0; row < file.Timestamps.Length; row++)
        {
            while (next < windows.Length && windows[next].End < row)
            {
                previous = next++;
            }

            var inside = next < windows.Length && windows[next].Start <= row;
            double value;
            if (inside)
            {
                var (start, end) = windows[next];
                var width = end - start + 1.0;
                value = ScaledSigmoid(-(end - row + 1) / width) * Profile.TpWeight / MaxTp;
            }
            else if (previous < 0)
            {
                value = -Profile.FpWeight;
            }
            else
            {
                var (start, end) = windows[previous];
                var past = Math.Abs(end - row) / (double)(end - start);
                value = ScaledSigmoid(past) * Profile.FpWeight;
            }

            if (row >= first)
            {
                var i = row - first;
                anomaly[i] = anomalyScores[row];
                weight[i] = value;
                window[i] = inside ? firstWindowId + next : -1;
                if (inside)
                {
                    scored.Add(firstWindowId + next);
                }
            }
        }

        return new SweptFile(file.Name, file.Timestamps.Length, anomaly, weight, window, [.. scored]);
    }

    /// <summary>The file's score with every row scoring at least <paramref name="threshold"/> flagged.</summary>
    public NabResult Score(SweptFile file, double threshold)
    {
        var best = new Dictionary<int, double>(file.Windows.Length);
        foreach (var w in file.Windows)
        {
            best[w] = -Profile.FnWeight;
        }

        double falsePositives = 0;
        int tp = 0, tn = 0, fp = 0, fn = 0;
        for (var i = 0; i < file.Anomaly.Length; i++)
        {
            var flagged = file.Anomaly[i] >= threshold;
            var w = file.Window[i];
            if (w < 0)
            {
                if (flagged)
                {
                    fp++;
                    falsePositives += file.Weight[i];
                }
                else
                {
                    tn++;
                }
            }
            else if (flagged)
            {
                tp++;
                best[w] = Math.Max(best[w], file.Weight[i]);
            }
            else
            {
                fn++;
            }
        }

        return new NabResult(threshold, falsePositives + best.Values.Sum(), tp, tn, fp, fn, file.Rows);
    }

    /// <summary>
    /// The threshold that scores best over all <paramref name="files"/> together, found by sweeping every distinct
    /// anomaly score from the highest down (and "flag nothing", as a threshold above every score).
    /// </summary>
    public NabResult Optimise(IReadOnlyList<SweptFile> files)
    {
        var rows = files.Sum(f => f.Anomaly.Length);
        var anomaly = new double[rows];
        var order = new int[rows];
        var weight = new double[rows];
        var window = new int[rows];
        var at = 0;
        var windows = new Dictionary<int, double>();
        foreach (var file in files)
        {
            Array.Copy(file.Anomaly, 0, anomaly, at, file.Anomaly.Length);
            Array.Copy(file.Weight, 0, weight, at, file.Weight.Length);
            Array.Copy(file.Window, 0, window, at, file.Window.Length);
            at += file.Anomaly.Length;
            foreach (var w in file.Windows)
            {
                windows[w] = -Profile.FnWeight;
            }
        }

        for (var i = 0; i < rows; i++)
        {
            order[i] = i;
        }

        var keys = anomaly.Select(a => -a).ToArray();
        Array.Sort(keys, order);

        var inWindow = window.Count(w => w >= 0);
        int tp = 0, fp = 0;
        var windowTotal = windows.Values.Sum();
        double falsePositives = 0;
        var best = new NabResult(1.1, windowTotal, 0, rows - inWindow, 0, inWindow, files.Sum(f => f.Rows));
        for (var k = 0; k < rows;)
        {
            var threshold = anomaly[order[k]];
            for (; k < rows && anomaly[order[k]] == threshold; k++)
            {
                var i = order[k];
                var w = window[i];
                if (w < 0)
                {
                    fp++;
                    falsePositives += weight[i];
                }
                else
                {
                    tp++;
                    var earlier = windows[w];
                    if (weight[i] > earlier)
                    {
                        windows[w] = weight[i];
                        windowTotal += weight[i] - earlier;
                    }
                }
            }

            var score = falsePositives + windowTotal;
            if (score > best.Score)
            {
                best = new NabResult(threshold, score, tp, rows - inWindow - fp, fp, inWindow - tp, best.Total);
            }
        }

        return best;
    }
}
