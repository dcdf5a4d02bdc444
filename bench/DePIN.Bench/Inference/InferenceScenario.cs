using System.Diagnostics;
using System.Text.Json.Nodes;
using DePIN.Core.Inference;
using DePIN.Simulation.Inference;

namespace DePIN.Bench.Inference;

/// <summary>
/// Routes the same simulated requests over the same simulated geography (<see cref="EdgeSimulation"/>) three ways:
/// latency-aware (<see cref="LatencyAwareRouter"/>), random and nearest-region, and compares what clients saw.
/// </summary>
public static class InferenceScenario
{
    public static Func<Task<JsonObject>> Prepare(EdgeSettings settings, TextWriter log) => () => Task.FromResult(Run(settings, log));

    private static JsonObject Run(EdgeSettings s, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var simulation = new EdgeSimulation(s);
        log.WriteLine($"inference: {s.Nodes} nodes, {s.Requests} requests over {simulation.DurationMs / 1000:0} simulated seconds, built in {clock.Elapsed.TotalSeconds:0.0} s");
        IInferenceRouter[] routers =
        [
            new LatencyAwareRouter(simulation.Nodes, simulation.DirectorySaysUp, simulation.Probe(s.Seed)),
            new RandomRouter(simulation.Nodes, simulation.DirectorySaysUp, s.Seed),
            new NearestRegionRouter(simulation.Nodes, simulation.DirectorySaysUp, s.Seed),
        ];

        var json = new JsonObject();
        var outcomes = new List<RouterOutcome>();
        foreach (var router in routers)
        {
            var started = clock.Elapsed;
            var outcome = simulation.Run(router);
            outcomes.Add(outcome);
            log.WriteLine($"  {router.Name}: p50 {outcome.P50Ms:0.0} ms, p99 {outcome.P99Ms:0.0} ms, failures {outcome.FailureRate:P3}, {(clock.Elapsed - started).TotalSeconds:0.0} s");
            json[router.Name] = new JsonObject
            {
                ["p50_ms"] = Math.Round(outcome.P50Ms, 1),
                ["p99_ms"] = Math.Round(outcome.P99Ms, 1),
                ["failure_rate"] = Math.Round(outcome.FailureRate, 5),
                ["mean_ms"] = Math.Round(outcome.MeanMs, 1),
                ["retries"] = outcome.Retries,
            };
        }

        var best = outcomes[1..].MinBy(o => o.P99Ms)!;
        return new JsonObject
        {
            ["scenario"] = "inference",
            ["nodes"] = s.Nodes,
            ["requests"] = s.Requests,
            ["utilisation"] = s.Utilisation,
            ["failing_nodes"] = s.FailingShare,
            ["seed"] = s.Seed,
            ["routers"] = json,
            ["best_baseline"] = best.Router,
            ["p50_ratio"] = Math.Round(best.P50Ms / outcomes[0].P50Ms, 2),
            ["p99_ratio"] = Math.Round(best.P99Ms / outcomes[0].P99Ms, 2),
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
    }
}
