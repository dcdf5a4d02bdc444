using System.Diagnostics;
using System.Text.Json.Nodes;
using DePIN.Core.Scheduling;
using DePIN.Simulation.Scheduling;

namespace DePIN.Bench.Scheduling;

/// <summary>
/// Settings of <c>schedule-sim</c>: one fleet trace, and a job trace for each load. Passes run at most every
/// <paramref name="PassSeconds"/> of virtual time (production's <c>Scheduler:PassInterval</c> is 1 s) and whenever work
/// or capacity changes after that.
/// </summary>
public sealed record ScheduleSimSettings(int Nodes, int Days, int Seed, IReadOnlyList<double> Loads, int WarmupDays, int PassSeconds);

/// <summary>
/// Runs the four placement policies of DePIN.Core on one churn trace and one job trace (virtual time, deterministic
/// for a seed) and compares completion times, interruptions and wasted work. Jobs arrive for <c>--days</c> after
/// <c>--warmup-days</c> in which the predictor only watches the fleet, and the simulation runs a further day to drain.
/// With one load the object holds its figures; with several (<c>--loads</c>) it holds them under <c>loads</c>, one per
/// load, on the same fleet trace.
/// </summary>
public static class ScheduleSimScenario
{
    public static Func<Task<JsonObject>> Prepare(ScheduleSimSettings settings, TextWriter log) => () => Task.FromResult(Run(settings, log));

    private static JsonObject Run(ScheduleSimSettings s, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var warmup = s.WarmupDays * 24.0;
        var fleet = FleetTrace.Generate(new ChurnModel(s.Nodes, warmup + (s.Days + 1) * 24.0), s.Seed);
        var result = new JsonObject { ["scenario"] = "schedule-sim", ["nodes"] = s.Nodes, ["days"] = s.Days, ["seed"] = s.Seed, ["pass_seconds"] = s.PassSeconds };
        if (s.Loads.Count == 1)
        {
            foreach (var (key, value) in AtLoad(s, fleet, s.Loads[0], log))
            {
                result[key] = value?.DeepClone();
            }
        }
        else
        {
            result["loads"] = new JsonArray([.. s.Loads.Select(load => (JsonNode)AtLoad(s, fleet, load, log))]);
        }

        result["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        return result;
    }

    private static JsonObject AtLoad(ScheduleSimSettings s, FleetTrace fleet, double load, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var warmup = s.WarmupDays * 24.0;
        var jobs = JobTrace.Generate(new JobMix(load, warmup, warmup + s.Days * 24.0), fleet, s.Seed);
        log.WriteLine($"schedule-sim: {fleet.Nodes.Count} nodes, {jobs.Count} jobs at load {load}");

        var simulation = new ScheduleSimulation(fleet, jobs, new SimulationOptions(PassInterval: s.PassSeconds / 3600.0));
        IPlacementPolicy[] policies =
        [
            new RandomPolicy(s.Seed),
            new FirstFitPolicy(),
            // Seeded: the sample of feasible nodes on a large fleet starts at a random node, and a run must repeat.
            new LeastLoadedPolicy(new Random(s.Seed)),
            new PredictivePolicy(new AvailabilityPredictor(AvailabilityPrior.Default), random: new Random(s.Seed)),
        ];

        var policiesJson = new JsonObject();
        var outcomes = new List<PolicyOutcome>();
        foreach (var policy in policies)
        {
            var started = clock.Elapsed;
            var outcome = simulation.Run(policy);
            outcomes.Add(outcome);
            log.WriteLine($"  {policy.Name}: {(clock.Elapsed - started).TotalSeconds:0.0} s");
            var json = Figures(outcome);
            if (outcome.Brier is { } brier)
            {
                json["brier"] = Math.Round(brier, 4);
                json["brier_fleet_prior"] = Math.Round(outcome.BrierFleetPrior!.Value, 4);
                json["predictions"] = outcome.Predictions;
                var bins = new JsonArray();
                foreach (var (count, predicted, observed) in outcome.Calibration)
                {
                    bins.Add(new JsonObject { ["n"] = count, ["predicted"] = Math.Round(predicted, 3), ["observed"] = Math.Round(observed, 3) });
                }

                json["calibration"] = bins;
            }

            policiesJson[policy.Name] = json;
        }

        // Two references, the predictive policy and pass with another forecast: "oracle" knows the future (availability
        // predicted without error); "model" forecasts as well as the trace allows (how the churn was drawn, not the draws).
        PolicyOutcome Reference(string name, ISurvivalForecast forecast)
        {
            var started = clock.Elapsed;
            var outcome = simulation.Run(new PredictivePolicy(forecast, random: new Random(s.Seed), name: name));
            log.WriteLine($"  {name}: {(clock.Elapsed - started).TotalSeconds:0.0} s");
            policiesJson[name] = Figures(outcome);
            return outcome;
        }

        var oracle = Reference("oracle", new TraceForecast(fleet));
        var model = Reference("model", new ChurnModelForecast(fleet));

        var predictive = outcomes[^1];
        var bestBaseline = outcomes[..^1].MinBy(o => o.MeanJctHours)!;
        var fewestInterrupted = outcomes[..^1].Min(o => o.Interrupted);
        // No job completes sooner than its own work takes, so no policy's mean completion time can fall below the
        // jobs' mean work: that caps the gain any policy could show over the best baseline.
        var meanWork = jobs.Average(j => j.WorkHours);
        var bound = 1 - (meanWork / bestBaseline.MeanJctHours);
        double Gain(PolicyOutcome outcome) => 1 - (outcome.MeanJctHours / bestBaseline.MeanJctHours);
        // The share of the gain any policy could show that a policy shows, and the best baseline's interrupted jobs over its.
        JsonNode? GainShare(PolicyOutcome outcome) => bound > 0 ? Math.Round(Gain(outcome) / bound, 3) : null;
        double InterruptedRatio(PolicyOutcome outcome) => Math.Round((double)fewestInterrupted / Math.Max(1, outcome.Interrupted), 3);
        return new JsonObject
        {
            ["load"] = load,
            ["jobs"] = jobs.Count,
            ["policies"] = policiesJson,
            ["best_baseline"] = bestBaseline.Policy,
            ["mean_jct_gain"] = Math.Round(Gain(predictive), 4),
            ["mean_work_h"] = Math.Round(meanWork, 3),
            ["mean_jct_gain_bound"] = Math.Round(bound, 4),
            ["gain_share"] = GainShare(predictive),
            ["interrupted_ratio"] = InterruptedRatio(predictive),
            ["oracle_gain_share"] = GainShare(oracle),
            ["oracle_interrupted_ratio"] = InterruptedRatio(oracle),
            ["model_gain_share"] = GainShare(model),
            ["model_interrupted_ratio"] = InterruptedRatio(model),
            ["load_seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
    }

    private static JsonObject Figures(PolicyOutcome outcome) => new()
    {
        ["success_rate"] = Math.Round(outcome.SuccessRate, 4),
        ["mean_jct_h"] = Math.Round(outcome.MeanJctHours, 3),
        ["p99_jct_h"] = Math.Round(outcome.P99JctHours, 3),
        ["interrupted"] = outcome.Interrupted,
        ["interruptions"] = outcome.Interruptions,
        ["wasted_node_hours"] = Math.Round(outcome.WastedNodeHours, 1),
    };
}
