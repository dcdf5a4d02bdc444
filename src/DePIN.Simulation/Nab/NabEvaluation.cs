namespace DePIN.Simulation.Nab;

/// <summary>A detector's NAB result under one profile: the corpus-optimal threshold, raw and normalised scores, per file.</summary>
public sealed record NabProfileReport(
    string Profile,
    double Threshold,
    double Raw,
    double Null,
    double Perfect,
    double Normalised,
    IReadOnlyList<NabResult> Files);

/// <summary>
/// NAB's final step: optimise the threshold over the corpus, then normalise the raw score so that the null detector
/// (a constant score, whose best is to flag nothing or everything) scores 0 and a perfect detector, one that flags
/// every window at its left edge and nothing else, scores 100.
/// </summary>
public static class NabEvaluation
{
    /// <param name="threshold">The threshold to score at; when null, the one that scores best on these files (as NAB does).
    /// A threshold chosen on other files scores these as a detector tuned without them would.</param>
    /// <param name="nullScore">The null detector's raw score on these files, when already known (<see cref="Null"/>).</param>
    public static NabProfileReport Evaluate(
        IReadOnlyList<NabFile> files, IReadOnlyList<double[]> scores, NabProfile profile, double? threshold = null, double? nullScore = null)
    {
        if (files.Count != scores.Count)
        {
            throw new ArgumentException($"{scores.Count} score series for {files.Count} files.", nameof(scores));
        }

        var scorer = new NabScorer(profile);
        var swept = Sweep(scorer, files, i => scores[i]);
        var at = threshold ?? scorer.Optimise(swept).Threshold;
        var perFile = swept.Select(f => scorer.Score(f, at)).ToArray();
        var raw = perFile.Sum(r => r.Score);

        var nothing = nullScore ?? Null(files, profile);
        var perfect = files.Sum(f => f.Windows.Length) * profile.TpWeight;
        var normalised = 100.0 * (raw - nothing) / (perfect - nothing);
        return new NabProfileReport(profile.Name, at, raw, nothing, perfect, normalised, perFile);
    }

    /// <summary>The raw score of the null detector (a constant score, at its best threshold) on these files.</summary>
    public static double Null(IReadOnlyList<NabFile> files, NabProfile profile)
    {
        var scorer = new NabScorer(profile);
        return scorer.Optimise(Sweep(scorer, files, i => Enumerable.Repeat(0.5, files[i].Values.Length).ToArray())).Score;
    }

    private static SweptFile[] Sweep(NabScorer scorer, IReadOnlyList<NabFile> files, Func<int, double[]> scores)
    {
        var swept = new SweptFile[files.Count];
        var windows = 0;
        for (var i = 0; i < files.Count; i++)
        {
            swept[i] = scorer.Sweep(files[i], scores(i), windows);
            windows += files[i].Windows.Length;
        }

        return swept;
    }
}
