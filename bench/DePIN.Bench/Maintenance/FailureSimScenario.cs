using System.Diagnostics;
using System.Text.Json.Nodes;
using DePIN.Core.Maintenance;
using DePIN.Grains.Maintenance;

namespace DePIN.Bench.Maintenance;

/// <summary>
/// The same simulated fleet (<see cref="SimulatedHealthNode"/>: the same failures, precursors and noise, by seed) run
/// three times: never draining, draining by the transparent <see cref="RiskRule"/>, and draining by the learnt
/// <see cref="FailureModel"/>, which starts from the rule and retrains every day on the fleet's own history. Every
/// node runs jobs back to back; a failure under a running job interrupts it, a drain first checkpoints and moves it.
/// Counted after <c>--warmup-days</c>: interrupted jobs, and the drains as predictions of a failure within the horizon.
/// </summary>
public static class FailureSimScenario
{
    public static JsonObject Run(FailureSimSettings s, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var none = new World("none", s, learn: false, risk: null);
        var rule = new World("rule", s, learn: false, risk: new RiskRule());
        var learnt = new World("learnt", s, learn: true, risk: new RiskRule());
        World[] worlds = [none, rule, learnt];

        var end = SimulatedHealthNode.Start + TimeSpan.FromDays(s.WarmupDays + s.Days);
        var day = 0;
        for (var now = SimulatedHealthNode.Start; now < end; now += FailureSimSettings.Step)
        {
            foreach (var world in worlds)
            {
                world.Step(now);
            }

            if (now.TimeOfDay == TimeSpan.Zero && now > SimulatedHealthNode.Start)
            {
                day++;
                var model = learnt.Retrain(s.Seed + day);
                log.WriteLine($"failure-sim: day {day}, {clock.Elapsed.TotalSeconds:0} s; learnt world: {learnt.Risk switch
                {
                    FailureModel m => $"model of {m.Examples} moments ({m.Failures} before failures)",
                    _ => "still on the rule",
                }}{(model ? " (retrained)" : "")}");
            }
        }

        foreach (var world in worlds)
        {
            world.Close(end);
            log.WriteLine($"  {world.Name}: {world.Describe()}");
        }

        var reduction = none.Interrupted == 0 ? 0 : 1 - (learnt.Interrupted / (double)none.Interrupted);
        return new JsonObject
        {
            ["scenario"] = "failure-sim",
            ["precision"] = Math.Round(learnt.Precision, 3),
            ["recall"] = Math.Round(learnt.Recall, 3),
            ["median_lead_min"] = Math.Round(learnt.MedianLeadMinutes, 1),
            ["interrupted_with_drain"] = learnt.Interrupted,
            ["interrupted_without_drain"] = none.Interrupted,
            ["interruption_reduction"] = Math.Round(reduction, 3),
            ["rule"] = rule.Json(),
            ["learnt"] = learnt.Json(),
            ["failures"] = none.Failures,
            ["failures_by_kind"] = new JsonObject(none.FailuresByKind.Select(k => KeyValuePair.Create<string, JsonNode?>(k.Key.ToString().ToLowerInvariant(), k.Value))),
            ["nodes"] = s.Nodes,
            ["days"] = s.Days,
            ["warmup_days"] = s.WarmupDays,
            ["horizon_h"] = s.Horizon.TotalHours,
            ["seed"] = s.Seed,
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
    }

    /// <summary>One run of the fleet under one draining policy.</summary>
    private sealed class World
    {
        private readonly FailureSimSettings _s;
        private readonly bool _learn;
        private readonly DateTimeOffset _countFrom;
        private readonly Node[] _nodes;
        private readonly List<FailureExample> _examples = [];
        private readonly Random _sampling;
        private readonly List<double> _leads = [];
        private readonly List<FaultKind> _faults = [];
        private int _drains;
        private int _rightDrains;
        private int _wrongDrains;
        private int _caught;
        private double _drainedHours;

        public World(string name, FailureSimSettings s, bool learn, IFailureRisk? risk)
        {
            Name = name;
            _s = s;
            _learn = learn;
            Risk = risk;
            _countFrom = SimulatedHealthNode.Start + TimeSpan.FromDays(s.WarmupDays);
            _sampling = new Random(s.Seed);
            var health = NodeHealthOptions.Default with { Detector = new NoveltyOptions(Warmup: 360, Rest: 30) };
            _nodes = [.. Enumerable.Range(0, s.Nodes).Select(i => new Node(new SimulatedHealthNode(i, s.Seed, s.MeanDaysToFailure), new NodeHealth(health), new Random(unchecked((s.Seed * 7_000_003) + i))))];
        }

        public string Name { get; }

        public IFailureRisk? Risk { get; private set; }

        public int Interrupted { get; private set; }

        public int Failures { get; private set; }

        public SortedDictionary<FailureKind, int> FailuresByKind { get; } = [];

        public double Precision => _rightDrains + _wrongDrains == 0 ? 0 : _rightDrains / (double)(_rightDrains + _wrongDrains);

        public double Recall => Failures == 0 ? 0 : _caught / (double)Failures;

        public double MedianLeadMinutes
        {
            get
            {
                if (_leads.Count == 0)
                {
                    return 0;
                }

                var sorted = _leads.Order().ToArray();
                return sorted[sorted.Length / 2];
            }
        }

        public void Step(DateTimeOffset now)
        {
            var counting = now >= _countFrom;
            var assess = Risk is not null && (now - SimulatedHealthNode.Start).Ticks % FailureSimSettings.RiskEvery.Ticks == 0;
            var snapshot = _learn && (now - SimulatedHealthNode.Start).Ticks % FailureSimSettings.ExampleEvery.Ticks == 0;
            foreach (var node in _nodes)
            {
                var sim = node.Sim;
                if (sim.IsDown(now))
                {
                    continue;
                }

                if (sim.FailsNow(now))
                {
                    Fail(node, now, counting);
                    continue;
                }

                // Jobs: back to back with idle gaps, about 75 % busy; none start on a draining node.
                if (node.Busy && now >= node.JobEnds)
                {
                    node.Busy = false;
                    node.IdleUntil = now + TimeSpan.FromHours(-Math.Log(1 - node.Jobs.NextDouble()) * 1.5);
                }

                if (!node.Busy && !node.Draining && now >= node.IdleUntil)
                {
                    node.Busy = true;
                    node.JobEnds = now + TimeSpan.FromHours(1 + (node.Jobs.NextDouble() * 7));
                }

                _faults.Clear();
                var sample = sim.Sample(now, node.Busy, _faults);
                if (Risk is null)
                {
                    continue; // nobody watches this world
                }

                node.Health.Observe(sample);
                foreach (var fault in _faults)
                {
                    node.Health.Fault(fault, now);
                }

                if (snapshot)
                {
                    node.Moments.Enqueue((now, node.Health.Features(now)));
                    while (node.Moments.TryPeek(out var oldest) && now - oldest.At > _s.Horizon)
                    {
                        node.Moments.Dequeue();
                        if (_sampling.NextDouble() < 0.3)
                        {
                            _examples.Add(new FailureExample(oldest.Features, Failed: false));
                        }
                    }
                }

                if (assess)
                {
                    Decide(node, now, Risk.Assess(node.Health.Features(now)).Risk, counting);
                }
            }
        }

        public bool Retrain(int seed)
        {
            if (!_learn || FailureModel.Train(_examples, seed) is not { } model)
            {
                return false;
            }

            (Risk as IDisposable)?.Dispose();
            Risk = model;
            return true;
        }

        public void Close(DateTimeOffset end)
        {
            foreach (var node in _nodes.Where(n => n.Draining))
            {
                if (end - node.DrainedAt > _s.Horizon && node.DrainedAt >= _countFrom)
                {
                    _wrongDrains++;
                }

                _drainedHours += (end - node.DrainedAt).TotalHours;
            }
        }

        public string Describe() =>
            $"{Failures} failures, {Interrupted} jobs interrupted, {_drains} drains ({_rightDrains} right, {_wrongDrains} wrong), " +
            $"precision {Precision:0.000}, recall {Recall:0.000}, median lead {MedianLeadMinutes:0} min, {_drainedHours:0} node-hours drained";

        public JsonObject Json() => new()
        {
            ["precision"] = Math.Round(Precision, 3),
            ["recall"] = Math.Round(Recall, 3),
            ["median_lead_min"] = Math.Round(MedianLeadMinutes, 1),
            ["interrupted"] = Interrupted,
            ["drains"] = _drains,
            ["drained_node_hours"] = Math.Round(_drainedHours, 1),
            ["risk"] = Risk is FailureModel ? FailureModel.Source : RiskRule.Source,
        };

        private void Decide(Node node, DateTimeOffset now, double risk, bool counting)
        {
            var drain = node.Drains.Decide(node.Draining, risk, now);
            if (drain && !node.Draining)
            {
                node.Draining = true;
                node.DrainedAt = now;
                node.Busy = false; // the running job checkpoints and moves
                if (counting)
                {
                    _drains++;
                }
            }
            else if (!drain && node.Draining)
            {
                node.Draining = false;
                _drainedHours += (now - node.DrainedAt).TotalHours;
                if (node.DrainedAt >= _countFrom)
                {
                    _wrongDrains++; // released without the failure it predicted
                }
            }
        }

        private void Fail(Node node, DateTimeOffset now, bool counting)
        {
            if (counting)
            {
                Failures++;
                FailuresByKind[node.Sim.Kind] = FailuresByKind.GetValueOrDefault(node.Sim.Kind) + 1;
                if (node.Busy)
                {
                    Interrupted++;
                }
            }

            if (node.Draining)
            {
                var lead = now - node.DrainedAt;
                if (node.DrainedAt >= _countFrom)
                {
                    if (lead <= _s.Horizon)
                    {
                        _rightDrains++;
                    }
                    else
                    {
                        _wrongDrains++;
                    }
                }

                if (counting)
                {
                    _caught++;
                    _leads.Add(lead.TotalMinutes);
                }

                _drainedHours += lead.TotalHours;
            }

            // The moments before the failure were its warning; the node starts afresh after repair.
            foreach (var (at, features) in node.Moments)
            {
                _examples.Add(new FailureExample(features, Failed: now - at <= _s.Horizon));
            }

            node.Moments.Clear();
            node.Busy = false;
            node.Draining = false;
            node.Drains.Reset();
            node.IdleUntil = node.Sim.DownUntil;
        }
    }

    private sealed class Node(SimulatedHealthNode sim, NodeHealth health, Random jobs)
    {
        public SimulatedHealthNode Sim { get; } = sim;

        public NodeHealth Health { get; } = health;

        public Random Jobs { get; } = jobs;

        public Queue<(DateTimeOffset At, float[] Features)> Moments { get; } = new();

        public bool Busy { get; set; }

        public DateTimeOffset JobEnds { get; set; }

        public DateTimeOffset IdleUntil { get; set; }

        public bool Draining { get; set; }

        public DateTimeOffset DrainedAt { get; set; }

        public DrainTracker Drains { get; } = new(DrainPolicy.Default);
    }
}
