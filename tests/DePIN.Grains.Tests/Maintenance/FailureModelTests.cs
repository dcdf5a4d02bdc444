using DePIN.Core.Maintenance;
using DePIN.Grains.Maintenance;

namespace DePIN.Grains.Tests.Maintenance;

public sealed class FailureModelTests
{
    private static readonly int Heat = Array.IndexOf(NodeHealth.FeatureNames, "unexplained_heat_c");
    private static readonly int Xid = Array.IndexOf(NodeHealth.FeatureNames, "faults_GpuXid");

    /// <summary>A fleet history in which heat the load does not explain precedes failure and an isolated Xid does not.</summary>
    private static List<FailureExample> History(int seed, int count)
    {
        var random = new Random(seed);
        var examples = new List<FailureExample>();
        for (var i = 0; i < count; i++)
        {
            var features = new float[NodeHealth.FeatureCount];
            var failing = random.NextDouble() < 0.2;
            features[Heat] = (float)((failing ? 10 : 0) + (random.NextDouble() * 4));
            features[Xid] = random.NextDouble() < 0.1 ? 1 : 0;
            examples.Add(new FailureExample(features, failing));
        }

        return examples;
    }

    [Fact]
    public void It_refuses_to_learn_from_too_few_failures()
    {
        var few = History(1, 400).Where(e => !e.Failed).Concat(History(2, 50).Where(e => e.Failed).Take(5)).ToList();
        Assert.Null(FailureModel.Train(few, seed: 1));
    }

    [Fact]
    public void It_learns_which_evidence_precedes_failure()
    {
        using var model = FailureModel.Train(History(1, 4000), seed: 1);
        Assert.NotNull(model);

        var hot = new float[NodeHealth.FeatureCount];
        hot[Heat] = 12;
        var isolatedXid = new float[NodeHealth.FeatureCount];
        isolatedXid[Xid] = 1;
        isolatedXid[Heat] = 1;

        Assert.True(model.Assess(hot).Risk > 0.9, $"hot: {model.Assess(hot).Risk}");
        Assert.True(model.Assess(isolatedXid).Risk < 0.1, $"isolated Xid: {model.Assess(isolatedXid).Risk}");
        Assert.Equal(FailureModel.Source, model.Assess(hot).Source);

        // Calibrated: on fresh history from the same fleet, the mean risk is near the failure rate.
        var fresh = History(2, 2000);
        var mean = fresh.Average(e => model.Assess(e.Features).Risk);
        Assert.InRange(mean, 0.15, 0.25);
    }
}
