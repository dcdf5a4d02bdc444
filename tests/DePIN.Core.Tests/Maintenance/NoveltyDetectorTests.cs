using DePIN.Core.Maintenance;
using DePIN.Simulation.Nab;
using DePIN.Testing;

namespace DePIN.Core.Tests.Maintenance;

public sealed class NoveltyDetectorTests
{
    private static readonly NoveltyOptions Quick = new(Warmup: 200, Rest: 20);

    [Fact]
    public void A_familiar_noisy_rhythm_scores_below_the_alarm_and_a_jump_to_a_new_level_raises_an_alarm_then_rests()
    {
        var detector = new NoveltyDetector(Quick);
        var noise = new Random(7);
        double Sample(int i) => 50 + (20 * Math.Sin(i * 2 * Math.PI / 48)) + (noise.NextDouble() * 4);

        for (var i = 0; i < 2000; i++)
        {
            detector.Score(Sample(i));
        }

        var familiar = Enumerable.Range(2000, 500).Select(i => detector.Score(Sample(i))).ToArray();
        Assert.True(familiar.Max() < Quick.Alarm, $"a rhythm seen 40 times scored {familiar.Max():0.00}");

        var jump = Enumerable.Range(2500, 100).Select(i => detector.Score(Sample(i) + 60)).ToArray();
        Assert.True(jump[0] >= Quick.Alarm, $"a jump far beyond the range scored {jump[0]:0.00}");
        Assert.All(jump[1..(Quick.Rest + 1)], s => Assert.Equal(0.0, s));
    }

    [Fact]
    public void A_changed_shape_inside_the_usual_range_is_new_at_the_coarser_scales()
    {
        var detector = new NoveltyDetector(Quick);
        double Square(int i) => i % 64 < 32 ? 10 : 90;
        for (var i = 0; i < 4096; i++)
        {
            detector.Score(Square(i));
        }

        // The same two levels, switching four times as slowly: no value is new, the rhythm is, and the coarsest
        // scale (means of 64 samples) sees levels it never saw.
        var changed = Enumerable.Range(0, 512).Select(i => detector.Score(i % 256 < 128 ? 10 : 90)).ToArray();
        Assert.Contains(changed, s => s >= Quick.Alarm);
    }

    [Fact]
    public void Novelty_that_is_common_at_a_scale_is_discounted_there()
    {
        // Uniform noise in a fixed range keeps showing transitions never seen before at the scales still learning;
        // a new one there says little. Weighed by how rare novelty has been, the noise raises fewer alarms.
        int Alarms(NoveltyOptions options)
        {
            var detector = new NoveltyDetector(options);
            var noise = new Random(11);
            return Enumerable.Range(0, 3000).Count(_ => detector.Score(noise.NextDouble() * 100) >= options.Alarm);
        }

        var discounted = Alarms(Quick);
        var raw = Alarms(Quick with { RateBlocks = 0 });
        Assert.True(raw > 0 && discounted * 2 <= raw, $"noise raised {discounted} alarms weighed by rarity and {raw} without");
    }

    [Fact]
    public void Nothing_is_scored_during_warmup_and_non_finite_samples_are_ignored()
    {
        var detector = new NoveltyDetector(Quick);
        Assert.All(Enumerable.Range(0, Quick.Warmup).Select(i => detector.Score(i * i)), s => Assert.Equal(0.0, s));
        Assert.Equal(0.0, detector.Score(double.NaN));
        Assert.Equal(0.0, detector.Score(double.PositiveInfinity));
    }

    [Fact]
    public void On_the_shipped_NAB_files_it_scores_well_above_the_windowed_gaussian_baseline()
    {
        // Deterministic: the same files, the same detector, the same score every run (65.38 standard when written).
        var nab = Path.Combine(Repository.Root, "data", "nab");
        var files = NabCorpus.Read(nab);
        var scores = files.Select(f =>
        {
            var probation = new NabScorer(NabProfile.Published[0]).ProbationaryRows(f.Values.Length);
            var detector = new NoveltyDetector(new NoveltyOptions().ForProbation(probation));
            return f.Values.Select(detector.Score).ToArray();
        }).ToArray();

        var standard = NabEvaluation.Evaluate(files, scores, NabProfile.Published[0]).Normalised;
        var gaussian = NabEvaluation.Evaluate(files, [.. files.Select(f => NabCorpus.ReadScores(nab, "windowedGaussian", f))], NabProfile.Published[0]).Normalised;
        Assert.InRange(standard, 60, 100);
        Assert.True(standard > gaussian + 30, $"novelty {standard:0.00}, windowed Gaussian {gaussian:0.00}");
    }
}
