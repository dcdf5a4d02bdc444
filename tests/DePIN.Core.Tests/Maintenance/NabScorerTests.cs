using DePIN.Simulation.Nab;
using DePIN.Testing;

namespace DePIN.Core.Tests.Maintenance;

/// <summary>
/// The scorer against NAB's own published output: the ARTime, numenta HTM and windowed-Gaussian detectors' anomaly scores
/// on the 35 files in <c>data/nab</c>, scored at their published thresholds, must give the per-file scores and counts
/// NAB computed for them, under all three profiles.
/// </summary>
public sealed class NabScorerTests
{
    private static readonly string Nab = Path.Combine(Repository.Root, "data", "nab");
    private static readonly Lazy<IReadOnlyList<NabFile>> Files = new(() => NabCorpus.Read(Nab));

    public static TheoryData<string, string> Published() => new()
    {
        { "numenta", "standard" },
        { "numenta", "reward_low_FP_rate" },
        { "numenta", "reward_low_FN_rate" },
        { "windowedGaussian", "standard" },
        { "windowedGaussian", "reward_low_FP_rate" },
        { "windowedGaussian", "reward_low_FN_rate" },
        { "ARTime", "standard" },
        { "ARTime", "reward_low_FP_rate" },
        { "ARTime", "reward_low_FN_rate" },
    };

    [Theory]
    [MemberData(nameof(Published))]
    public void Reproduces_the_published_per_file_scores_within_a_hundredth(string detector, string profileName)
    {
        var profile = NabCorpus.Profiles(Nab).Single(p => p.Name == profileName);
        var scorer = new NabScorer(profile);
        var published = NabCorpus.ReadPublishedScores(Nab, detector, profileName);
        Assert.Equal(Files.Value.Count, published.Count);

        foreach (var expected in published)
        {
            var file = Files.Value.Single(f => f.Name == expected.File);
            var result = scorer.Score(scorer.Sweep(file, NabCorpus.ReadScores(Nab, detector, file)), expected.Threshold);
            Assert.True(Math.Abs(result.Score - expected.Score) <= 0.01, $"{detector} {profileName} {file.Name}: scored {result.Score:0.0000}, published {expected.Score:0.0000}");
            Assert.Equal((expected.Tp, expected.Tn, expected.Fp, expected.Fn), (result.Tp, result.Tn, result.Fp, result.Fn));
        }
    }

    [Fact]
    public void The_scaled_sigmoid_has_the_values_NAB_documents()
    {
        Assert.Equal(0.98661, NabScorer.ScaledSigmoid(-1.0), 5);
        Assert.Equal(0.84828, NabScorer.ScaledSigmoid(-0.5), 5);
        Assert.Equal(0.0, NabScorer.ScaledSigmoid(0.0), 12);
        Assert.Equal(-0.98661, NabScorer.ScaledSigmoid(1.0), 5);
        Assert.Equal(-1.0, NabScorer.ScaledSigmoid(3.5));
    }

    [Fact]
    public void The_probationary_period_is_15_percent_capped_at_750_rows()
    {
        var scorer = new NabScorer(NabProfile.Published[0]);
        Assert.Equal(604, scorer.ProbationaryRows(4032));
        Assert.Equal(750, scorer.ProbationaryRows(22_695));
    }

    [Fact]
    public void The_optimised_threshold_scores_at_least_as_well_as_every_other_and_as_the_file_scores_sum()
    {
        var profile = NabProfile.Published[0];
        var scorer = new NabScorer(profile);
        var windows = 0;
        var swept = Files.Value.Select(f =>
        {
            var s = scorer.Sweep(f, NabCorpus.ReadScores(Nab, "numenta", f), windows);
            windows += f.Windows.Length;
            return s;
        }).ToArray();

        var best = scorer.Optimise(swept);
        Assert.Equal(best.Score, swept.Sum(f => scorer.Score(f, best.Threshold).Score), 6);
        foreach (var threshold in new[] { 0.3, 0.5, 0.5421876907, 0.6, 0.9, 1.1 })
        {
            Assert.True(swept.Sum(f => scorer.Score(f, threshold).Score) <= best.Score + 1e-9, $"threshold {threshold} beats the optimum");
        }
    }

    [Fact]
    public void The_null_detector_normalises_to_zero_and_a_perfect_one_to_a_hundred()
    {
        var profile = NabProfile.Published[0];
        var constant = NabEvaluation.Evaluate(Files.Value, [.. Files.Value.Select(f => Enumerable.Repeat(0.5, f.Values.Length).ToArray())], profile);
        Assert.Equal(0.0, constant.Normalised, 9);

        // Flag the first row of every window, nothing else: every window is found at its left edge.
        var perfect = Files.Value.Select(f =>
        {
            var scores = new double[f.Values.Length];
            foreach (var (start, _) in f.WindowRows())
            {
                scores[start] = 1.0;
            }

            return scores;
        }).ToArray();
        var report = NabEvaluation.Evaluate(Files.Value, perfect, profile);
        Assert.True(report.Normalised is > 99.0 and <= 100.0 + 1e-9, $"perfect detector scored {report.Normalised}");
    }
}
