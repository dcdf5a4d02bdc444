using System.Diagnostics;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using DePIN.Core.Datasets;
using DePIN.Core.Training;
using DePIN.Simulation.Weather;
using DePIN.Testing;

namespace DePIN.Bench.Training;

/// <summary>Settings of <c>training</c>.</summary>
public sealed record TrainingSettings(int Workers, int InnerSteps, double Target, int Seed, int MaxSteps, double Churn);

/// <summary>
/// Trains the shipped weather task (the day's weather category, <see cref="TabularTask.Weather"/>) on
/// <c>--workers</c> shards to a target held-out accuracy, three ways, with the same model, data and seed:
/// synchronous data-parallel training (every step's gradients averaged: H = 1), DiLoCo (H = <c>--inner-steps</c>
/// local Adam steps, then the deltas averaged into a Nesterov outer step), and DiLoCo again while <c>--churn</c> of
/// the workers leave mid-run and are replaced two rounds later, on their shards, with fresh optimizer state.
/// Bytes count what crosses the network: per worker and exchange, the parameters down and a gradient or delta up
/// (4 bytes a parameter).
/// </summary>
public static class TrainingScenario
{
    private const int BatchSize = TrainingDefaults.BatchSize;
    private const int Hidden = TrainingDefaults.Hidden;
    private const float InnerLearningRate = TrainingDefaults.InnerLearningRate;
    private const float OuterLearningRate = TrainingDefaults.OuterLearningRate;
    private const float OuterMomentum = TrainingDefaults.OuterMomentum;
    private const int ReplacementDelayRounds = 2;

    public static Func<Task<JsonObject>> Prepare(TrainingSettings settings, TextWriter log) => () => Task.FromResult(Run(settings, log));

    private static JsonObject Run(TrainingSettings s, TextWriter log)
    {
        var task = TabularTask.Weather;
        var stations = WeatherArchive.Read(Path.Combine(Repository.Root, "data", "weather", "weather.csv"));
        var records = stations.SelectMany(station => station.Readings.Select(r =>
        {
            var record = station.Record(r, "weather", $"station-{station.Slug}", "bench");
            return (record, Contribution.ContentHash(record.ToCanonical()));
        }));
        var (examples, _) = task.Examples(records);
        var heldOut = examples.Where(e => e.IsHeldOut).ToList();
        var shards = Enumerable.Range(0, s.Workers).Select(w => examples.Where(e => !e.IsHeldOut && e.Shard(s.Workers) == w).ToList()).ToList();
        var model = new Mlp(task.Inputs.Count, Hidden, task.Classes.Count);
        var majority = heldOut.GroupBy(e => e.Label).Max(g => g.Count()) / (double)heldOut.Count;
        log.WriteLine($"training: {examples.Count} examples ({heldOut.Count} held out, majority class {majority:P1}), " +
                      $"{s.Workers} shards of {shards.Min(x => x.Count)}-{shards.Max(x => x.Count)}, {model.ParameterCount} parameters");

        var sync = Synchronous(model, shards, heldOut, s, log);
        var diloco = DiLoCo(model, shards, heldOut, s, leaving: 0, churnRound: -1, log);
        // Mid-run: half way through the rounds the clean run needed.
        var churned = DiLoCo(model, shards, heldOut, s, (int)Math.Ceiling(s.Churn * s.Workers - 1e-9), Math.Max(1, diloco.Rounds / 2), log);
        return new JsonObject
        {
            ["scenario"] = "training",
            ["workers"] = s.Workers,
            ["inner_steps"] = s.InnerSteps,
            ["target_accuracy"] = s.Target,
            ["examples"] = examples.Count,
            ["held_out"] = heldOut.Count,
            ["majority_class_accuracy"] = Math.Round(majority, 4),
            ["parameters"] = model.ParameterCount,
            ["sync"] = sync.Json(),
            ["diloco"] = diloco.Json(),
            ["diloco_churn"] = churned.Json(),
            ["sync_accuracy"] = Math.Round(sync.Accuracy, 4),
            ["diloco_accuracy"] = Math.Round(diloco.Accuracy, 4),
            ["sync_bytes"] = sync.Bytes,
            ["diloco_bytes"] = diloco.Bytes,
            ["comm_reduction"] = Math.Round((double)sync.Bytes / diloco.Bytes, 1),
            ["churn_accuracy"] = Math.Round(churned.Accuracy, 4),
        };
    }

    private static Outcome Synchronous(Mlp model, List<List<Example>> shards, List<Example> heldOut, TrainingSettings s, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var theta = model.Initialize(s.Seed);
        var adam = new Adam(model.ParameterCount, InnerLearningRate);
        var workers = shards.Select((shard, w) => new LocalWorker(model, shard, InnerLearningRate, BatchSize, s.Seed * 1000 + w)).ToList();
        var mean = new float[model.ParameterCount];
        long bytes = 0;
        var steps = 0;
        var accuracy = model.Accuracy(theta, heldOut);
        while (accuracy < s.Target && steps < s.MaxSteps)
        {
            Array.Clear(mean);
            foreach (var worker in workers)
            {
                TensorPrimitives.Add(mean, worker.Gradient(theta), mean);
            }

            TensorPrimitives.Multiply(mean, 1f / workers.Count, mean);
            adam.Step(theta, mean);
            bytes += Exchange(model, workers.Count);
            steps++;
            accuracy = model.Accuracy(theta, heldOut);
        }

        log.WriteLine($"  sync: {steps} steps, accuracy {accuracy:0.0000}, {clock.Elapsed.TotalSeconds:0.0} s");
        return new(steps, steps, accuracy, accuracy >= s.Target, bytes, clock.Elapsed.TotalSeconds, 0);
    }

    private static Outcome DiLoCo(Mlp model, List<List<Example>> shards, List<Example> heldOut, TrainingSettings s, int leaving, int churnRound, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var outer = new OuterLoop(model.Initialize(s.Seed), new float[model.ParameterCount], OuterLearningRate, OuterMomentum);
        var workers = shards.Select((shard, w) => (LocalWorker?)new LocalWorker(model, shard, InnerLearningRate, BatchSize, s.Seed * 1000 + w)).ToArray();
        var maxRounds = Math.Max(1, s.MaxSteps / s.InnerSteps);
        long bytes = 0;
        var rounds = 0;
        var accuracy = model.Accuracy(outer.Parameters, heldOut);
        while (accuracy < s.Target && rounds < maxRounds)
        {
            if (rounds == churnRound)
            {
                // The last workers' nodes go away mid-round: their deltas miss the deadline, and the scheduler's
                // replacements join two rounds later, on the same shards, with fresh optimizer state.
                for (var w = workers.Length - leaving; w < workers.Length; w++)
                {
                    workers[w] = null;
                }
            }

            if (churnRound >= 0 && rounds == churnRound + ReplacementDelayRounds)
            {
                for (var w = 0; w < workers.Length; w++)
                {
                    workers[w] ??= new LocalWorker(model, shards[w], InnerLearningRate, BatchSize, s.Seed * 1000 + w + 500);
                }
            }

            var deltas = workers.OfType<LocalWorker>().Select(worker => worker.Round(outer.Parameters, s.InnerSteps)).ToList();
            // Leavers had fetched the parameters before going: their download counts, their upload never came.
            bytes += Exchange(model, deltas.Count) + (rounds == churnRound ? leaving * 4L * model.ParameterCount : 0);
            outer.Apply(deltas);
            rounds++;
            accuracy = model.Accuracy(outer.Parameters, heldOut);
        }

        log.WriteLine($"  diloco (H={s.InnerSteps}{(leaving > 0 ? $", {leaving} of {shards.Count} leave at round {churnRound}" : "")}): " +
                      $"{rounds} rounds, accuracy {accuracy:0.0000}, {clock.Elapsed.TotalSeconds:0.0} s");
        return new(rounds, rounds * s.InnerSteps, accuracy, accuracy >= s.Target, bytes, clock.Elapsed.TotalSeconds, leaving);
    }

    /// <summary>One exchange per worker: the parameters down and a gradient or delta of the same size up.</summary>
    private static long Exchange(Mlp model, int workers) => workers * 2L * 4 * model.ParameterCount;

    private sealed record Outcome(int Rounds, int InnerSteps, double Accuracy, bool ReachedTarget, long Bytes, double Seconds, int WorkersLeft)
    {
        public JsonObject Json() => new()
        {
            ["rounds"] = Rounds,
            ["steps_per_worker"] = InnerSteps,
            ["accuracy"] = Math.Round(Accuracy, 4),
            ["reached_target"] = ReachedTarget,
            ["bytes"] = Bytes,
            ["wall_s"] = Math.Round(Seconds, 2),
            ["workers_left"] = WorkersLeft,
        };
    }
}
