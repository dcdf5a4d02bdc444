using DePIN.Core.Datasets;
using DePIN.Core.Training;

namespace DePIN.Core.Tests.Training;

public sealed class TrainingTests
{
    [Fact]
    public void The_gradient_matches_finite_differences()
    {
        var model = new Mlp(Inputs: 3, Hidden: 4, Classes: 3);
        var theta = model.Initialize(seed: 7);
        var random = new Random(3);
        var batch = Enumerable.Range(0, 5)
            .Select(i => new Example([.. Enumerable.Range(0, 3).Select(_ => (float)(random.NextDouble() * 2 - 1))], i % 3, (ulong)i)).ToList();
        var gradient = new float[model.ParameterCount];
        model.Gradient(theta, batch, gradient);

        const float h = 1e-2f;
        for (var i = 0; i < model.ParameterCount; i++)
        {
            var plus = (float[])theta.Clone();
            var minus = (float[])theta.Clone();
            plus[i] += h;
            minus[i] -= h;
            var numeric = (Loss(model, plus, batch) - Loss(model, minus, batch)) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) < 2e-3 + 0.02 * Math.Abs(numeric), $"parameter {i}: analytic {gradient[i]}, numeric {numeric}");
        }
    }

    [Fact]
    public void The_outer_step_is_Nesterov_momentum_on_the_negated_mean_delta()
    {
        float[] theta = [1f, -2f];
        float[] velocity = [0.5f, 0f];
        var outer = new OuterLoop(theta, velocity, learningRate: 0.5f, momentum: 0.8f);

        outer.Apply([[0.2f, 0f], [0.4f, 0.2f]]);

        // mean delta d = (0.3, 0.1); g = −d; v = 0.8·v + g = (0.1, −0.1); θ −= 0.5·(g + 0.8·v) = θ − 0.5·(−0.22, −0.18)
        Assert.Equal(0.1f, velocity[0], 5);
        Assert.Equal(-0.1f, velocity[1], 5);
        Assert.Equal(1.11f, theta[0], 5);
        Assert.Equal(-1.91f, theta[1], 5);
    }

    [Fact]
    public void Without_momentum_and_at_learning_rate_one_a_round_is_plain_averaging()
    {
        float[] theta = [1f, 1f];
        new OuterLoop(theta, new float[2], 1f, 0f).Apply([[1f, -1f], [3f, 1f]]);
        Assert.Equal([3f, 1f], theta);
    }

    [Fact]
    public void A_delta_of_another_shape_is_refused()
    {
        var outer = new OuterLoop(new float[3], new float[3], 0.5f, 0.8f);
        Assert.Throws<ArgumentException>(() => outer.Apply([new float[2]]));
    }

    [Fact]
    public void Weather_records_become_features_and_labels_and_the_normaliser_sees_only_the_training_split()
    {
        var task = TabularTask.Weather;
        var day = new DateTimeOffset(2012, 7, 1, 0, 0, 0, TimeSpan.Zero);
        Contribution Record(double precipitation, string weather, int i) => new("weather", $"n{i}", "s", day.AddDays(i), 47.6, -122.3, "1",
            new Dictionary<string, FieldValue>
            {
                ["precipitation"] = FieldValue.Of(precipitation), ["temp_max"] = FieldValue.Of(20 + i), ["temp_min"] = FieldValue.Of(10),
                ["wind"] = FieldValue.Of(3), ["weather"] = FieldValue.Of(weather),
            });

        var (features, label) = task.Read(Record(Math.E - 1, "rain", 0))!.Value;
        Assert.Equal(2, label); // drizzle, fog, rain, snow, sun
        Assert.Equal(1f, features[0], 5); // ln(1 + (e − 1))
        Assert.Equal(20f, features[1]);
        Assert.Equal(47.6f, features[4], 4);
        Assert.Null(task.Read(Record(0, "hail", 0)));
        Assert.Null(task.Read(Record(0, "rain", 0) with { Values = new Dictionary<string, FieldValue> { ["weather"] = FieldValue.Of("rain") } }));

        var records = Enumerable.Range(0, 50).Select(i => Record(0, "sun", i)).Select(r => (r, Contribution.ContentHash(r.ToCanonical()))).ToList();
        var (examples, normaliser) = task.Examples(records);
        Assert.Equal(50, examples.Count);
        Assert.InRange(examples.Count(e => e.IsHeldOut), 1, 49);
        Assert.Equal(records.Where(r => BitConverter.ToUInt64(r.Item2) % 5 != 0).Average(r => r.r.Values["temp_max"].Number), normaliser.Mean[1], 3);
    }

    [Fact]
    public void DiLoCo_workers_on_separate_shards_learn_a_separable_problem()
    {
        // Two Gaussian blobs in 2-D, class by blob; four workers, each with a quarter of the examples.
        var random = new Random(5);
        var examples = Enumerable.Range(0, 800).Select(i =>
        {
            var label = i % 2;
            float Coordinate() => (float)((label == 0 ? -1.5 : 1.5) + Gaussian(random));
            return new Example([Coordinate(), Coordinate()], label, (ulong)random.NextInt64());
        }).ToList();
        var model = new Mlp(2, 8, 2);
        var heldOut = examples.Where(e => e.IsHeldOut).ToList();
        var workers = Enumerable.Range(0, 4)
            .Select(w => new LocalWorker(model, [.. examples.Where(e => !e.IsHeldOut && e.Shard(4) == w)], 0.01f, 16, seed: w)).ToList();
        var outer = new OuterLoop(model.Initialize(1), new float[model.ParameterCount], TrainingDefaults.OuterLearningRate, TrainingDefaults.OuterMomentum);
        var before = model.Accuracy(outer.Parameters, heldOut);

        for (var round = 0; round < 5; round++)
        {
            outer.Apply([.. workers.Select(w => w.Round(outer.Parameters, 50))]);
        }

        Assert.True(model.Accuracy(outer.Parameters, heldOut) >= 0.95, $"accuracy {model.Accuracy(outer.Parameters, heldOut)} (before: {before})");
    }

    private static double Loss(Mlp model, float[] theta, List<Example> batch) => model.Gradient(theta, batch, new float[model.ParameterCount]);

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
