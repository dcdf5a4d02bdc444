using DePIN.Core.Scheduling;
using DePIN.Simulation.Scheduling;

namespace DePIN.Core.Tests.Scheduling;

public sealed class AvailabilityPredictorTests
{
    private static readonly DateTimeOffset Monday = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    private readonly AvailabilityPredictor _predictor = new(AvailabilityPrior.Default);

    [Fact]
    public void A_node_that_stays_up_for_days_is_a_better_bet_than_one_that_drops_every_hour()
    {
        // Both came back up at the same moment; only their pasts differ.
        var upAgain = Monday.AddDays(20);
        var steady = History(upAgain, sessionHours: 72, downHours: 0.5, sessions: 4);
        var flaky = History(upAgain, sessionHours: 1, downHours: 0.5, sessions: 20);
        var now = upAgain.AddHours(1);

        var pSteady = _predictor.ProbabilityUp(steady, false, now, TimeSpan.FromHours(2));
        var pFlaky = _predictor.ProbabilityUp(flaky, false, now, TimeSpan.FromHours(2));

        Assert.True(pSteady > 0.9, $"steady node: p={pSteady}");
        Assert.True(pFlaky < 0.6, $"flaky node: p={pFlaky}");
    }

    [Fact]
    public void A_machine_switched_off_every_evening_is_a_worse_bet_just_before_than_in_the_morning()
    {
        var node = new NodeAvailability();
        for (var day = 0; day < 10; day++)
        {
            node.CameUp(Monday.AddDays(day).AddHours(8));
            node.WentDown(Monday.AddDays(day).AddHours(23));
        }

        node.CameUp(Monday.AddDays(10).AddHours(8));
        var morning = _predictor.ProbabilityUp(node, false, Monday.AddDays(10).AddHours(9), TimeSpan.FromHours(2));
        var evening = _predictor.ProbabilityUp(node, false, Monday.AddDays(10).AddHours(22), TimeSpan.FromHours(2));

        // Without the hour-of-day pattern the evening would look safer: a session that has lasted longer is, for
        // heavy-tailed sessions, likelier to go on.
        Assert.True(evening < morning - 0.03, $"09:00: p={morning}, 22:00: p={evening}");
    }

    [Fact]
    public void Missed_heartbeats_lower_the_odds_and_a_node_that_is_down_has_none()
    {
        var node = new NodeAvailability();
        node.CameUp(Monday);
        var now = Monday.AddHours(10);

        var online = _predictor.ProbabilityUp(node, false, now, TimeSpan.FromHours(1));
        var suspect = _predictor.ProbabilityUp(node, true, now, TimeSpan.FromHours(1));
        node.WentDown(now);

        Assert.Equal(online * AvailabilityPrior.Default.SuspectSurvival, suspect, 12);
        Assert.Equal(0, _predictor.ProbabilityUp(node, false, now, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void The_longer_the_job_the_lower_the_odds()
    {
        var node = new NodeAvailability();
        node.CameUp(Monday);
        var now = Monday.AddHours(5);

        var odds = new[] { 0.25, 1, 4, 24 }.Select(h => _predictor.ProbabilityUp(node, false, now, TimeSpan.FromHours(h))).ToArray();

        Assert.Equal(odds.OrderDescending(), odds);
        Assert.All(odds, p => Assert.InRange(p, 0, 1));
    }

    [Fact]
    public void The_fleet_fit_recovers_a_known_weibull()
    {
        var random = new Random(3);
        var nodes = Enumerable.Range(0, 500)
            .Select(_ => (IReadOnlyCollection<double>)Enumerable.Range(0, 4).Select(_ => 10 * Math.Pow(-Math.Log(1 - random.NextDouble()), 1 / 0.6)).ToArray())
            .ToList();

        var prior = AvailabilityPrior.Fit(nodes);

        Assert.InRange(prior.Shape, 0.57, 0.63);
        Assert.InRange(Math.Pow(prior.Theta, 1 / prior.Shape), 9, 11);
    }

    [Fact]
    public void The_predictions_are_calibrated_and_beat_the_fleet_prior_on_a_simulated_fleet()
    {
        // Two days of history, then two days of jobs at 80 % load on a 400-node fleet with diurnal machines and
        // correlated outages; every placed node's prediction is scored against whether it really stayed up.
        var fleet = FleetTrace.Generate(new ChurnModel(400, 5 * 24), seed: 7);
        var jobs = JobTrace.Generate(new JobMix(0.8, 48, 96), fleet, seed: 7);

        var outcome = new ScheduleSimulation(fleet, jobs).Run(new PredictivePolicy(new AvailabilityPredictor(AvailabilityPrior.Default), random: new Random(7)));

        Assert.True(outcome.Predictions > 5000, $"only {outcome.Predictions} predictions were scored");
        Assert.True(outcome.Brier < outcome.BrierFleetPrior, $"Brier {outcome.Brier} against the fleet prior's {outcome.BrierFleetPrior}");
        foreach (var (count, predicted, observed) in outcome.Calibration.Where(b => b.Count >= 300))
        {
            Assert.True(Math.Abs(predicted - observed) < 0.05,
                $"{count} predictions averaging {predicted:0.000} came true {observed:0.000} of the time");
        }
    }

    [Fact]
    public void The_trace_forecast_knows_which_nodes_outlive_a_job()
    {
        var fleet = FleetTrace.Generate(new ChurnModel(50, 48), seed: 3);
        var forecast = new TraceForecast(fleet);
        var node = fleet.Nodes.First(n => n.Up.Count >= 2 && n.Up[0].End - n.Up[0].Start > 1);
        var candidate = new NodeCandidate { NodeId = node.NodeId, Region = node.Region, Capacity = node.Capacity };
        var (start, end) = node.Up[0];
        DateTimeOffset At(double hours) => ScheduleSimulation.Epoch + TimeSpan.FromHours(hours);

        Assert.Equal(1, forecast.ProbabilityUp(candidate, At(start), TimeSpan.FromHours(end - start)));
        Assert.Equal(0.25, forecast.ProbabilityUp(candidate, At(start), TimeSpan.FromHours(2 * (end - start))), 9);
        Assert.Equal(0, forecast.ProbabilityUp(candidate, At((end + node.Up[1].Start) / 2), TimeSpan.FromHours(1)));
    }

    [Fact]
    public void The_churn_model_forecast_is_calibrated_on_the_trace_it_was_drawn_from()
    {
        // Up nodes, times and durations drawn at random: of the forecasts near p, about p must come true.
        var fleet = FleetTrace.Generate(new ChurnModel(400, 24 * 12), seed: 3);
        var forecast = new ChurnModelForecast(fleet);
        var random = new Random(5);
        var samples = new List<(double Predicted, bool Stayed)>();
        while (samples.Count < 20_000)
        {
            var node = fleet.Nodes[random.Next(fleet.Nodes.Count)];
            var now = 24 + (random.NextDouble() * 24 * 9);
            var hours = 0.25 + (random.NextDouble() * 24);
            var interval = node.Up.FirstOrDefault(u => u.Start <= now && now < u.End);
            if (interval == default)
            {
                continue;
            }

            var availability = new NodeAvailability();
            availability.CameUp(ScheduleSimulation.Epoch + TimeSpan.FromHours(interval.Start));
            var candidate = new NodeCandidate { NodeId = node.NodeId, Region = node.Region, Capacity = node.Capacity, Availability = availability };
            var p = forecast.ProbabilityUp(candidate, ScheduleSimulation.Epoch + TimeSpan.FromHours(now), TimeSpan.FromHours(hours));
            samples.Add((p, interval.End >= now + hours));
        }

        Assert.InRange(samples.Average(s => s.Predicted) - samples.Average(s => s.Stayed ? 1.0 : 0.0), -0.02, 0.02);
        foreach (var bin in samples.GroupBy(s => Math.Min(9, (int)(s.Predicted * 10))).Where(b => b.Count() >= 500))
        {
            var predicted = bin.Average(s => s.Predicted);
            var observed = bin.Average(s => s.Stayed ? 1.0 : 0.0);
            Assert.True(Math.Abs(predicted - observed) < 0.06, $"{bin.Count()} forecasts averaging {predicted:0.000} came true {observed:0.000} of the time");
        }
    }

    private static NodeAvailability History(DateTimeOffset upAgain, double sessionHours, double downHours, int sessions)
    {
        var node = new NodeAvailability();
        var t = upAgain.AddHours(-sessions * (sessionHours + downHours));
        for (var i = 0; i < sessions; i++)
        {
            node.CameUp(t);
            t = t.AddHours(sessionHours);
            node.WentDown(t);
            t = t.AddHours(downHours);
        }

        node.CameUp(t);
        return node;
    }
}
