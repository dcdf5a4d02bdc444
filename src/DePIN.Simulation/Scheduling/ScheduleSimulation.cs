using DePIN.Core.Scheduling;

namespace DePIN.Simulation.Scheduling;

/// <summary>What one policy achieved on a trace.</summary>
/// <param name="Jobs">Jobs submitted.</param>
/// <param name="SuccessRate">Share of submitted jobs that completed.</param>
/// <param name="MeanJctHours">Mean completion time (submission to completion) of completed jobs.</param>
/// <param name="P99JctHours">99th percentile of the same.</param>
/// <param name="Interrupted">Jobs that lost a node at least once while running.</param>
/// <param name="Interruptions">Node losses suffered by running jobs, all counted.</param>
/// <param name="WastedNodeHours">Replica-hours whose work was lost: progress past the last checkpoint and restart time.</param>
/// <param name="Brier">Brier score of the policy's per-node survival predictions; null for policies that do not predict.</param>
/// <param name="BrierFleetPrior">The same events predicted from the fleet prior and the node's age alone: the skill reference.</param>
/// <param name="Predictions">Predictions scored.</param>
/// <param name="Calibration">Per tenth of predicted probability: predictions, mean predicted, share that stayed up.</param>
public sealed record PolicyOutcome(
    string Policy,
    int Jobs,
    double SuccessRate,
    double MeanJctHours,
    double P99JctHours,
    int Interrupted,
    int Interruptions,
    double WastedNodeHours,
    double? Brier,
    double? BrierFleetPrior,
    int Predictions,
    IReadOnlyList<(int Count, double Predicted, double Observed)> Calibration);

/// <summary>Knobs of the simulated control plane, the same for every policy.</summary>
/// <param name="PassInterval">Scheduling passes run at most this often, and whenever work or capacity changes after that.</param>
/// <param name="MaxAttempts">A job interrupted this many times fails.</param>
/// <param name="RefitInterval">How often the fleet prior is refitted from the sessions seen so far.</param>
/// <param name="JobsPerPass">Pending jobs a pass tries, oldest first (a backfill window, as Slurm's bf_max_job_test).</param>
public sealed record SimulationOptions(double PassInterval = 1 / 60.0, int MaxAttempts = 50, double RefitInterval = 6, int JobsPerPass = 200)
{
    public static SimulationOptions Default { get; } = new();
}

/// <summary>
/// A deterministic discrete-event simulation in virtual time: jobs from a <see cref="JobTrace"/> arrive at a control
/// plane that places them with a policy on a fleet whose machines come and go as a <see cref="FleetTrace"/> says.
/// A lost node interrupts every gang on it: the gang's progress falls back to its last checkpoint, its nodes are
/// released, and it queues again after a backoff. Every policy sees the same churn and the same jobs.
/// </summary>
public sealed class ScheduleSimulation(FleetTrace fleet, IReadOnlyList<SimJob> jobs, SimulationOptions? options = null)
{
    /// <summary>Hour 0 of the trace: a Monday, midnight UTC.</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    private readonly SimulationOptions _options = options ?? SimulationOptions.Default;

    public PolicyOutcome Run(IPlacementPolicy policy)
    {
        var run = new SimulationRun(fleet, jobs, _options, policy);
        return run.Execute();
    }

    private enum EventKind
    {
        NodeUp,
        NodeDown,
        JobArrives,
        JobFinishes,
        JobRetries,
        Pass,
        Refit,
    }

    private sealed class JobState(SimJob job)
    {
        public SimJob Job { get; } = job;

        public double Progress { get; set; }

        public int Attempt { get; set; }

        public double StartedAt { get; set; }

        public double Overhead { get; set; }

        public double QueuedAt { get; set; } = job.SubmitAt;

        public string[] Nodes { get; set; } = [];

        public int Interruptions { get; set; }

        public double? FinishedAt { get; set; }

        public bool Failed { get; set; }
    }

    private sealed class SimulationRun
    {
        private readonly FleetTrace _fleet;
        private readonly IReadOnlyList<SimJob> _jobs;
        private readonly SimulationOptions _options;
        private readonly IPlacementPolicy _policy;
        private readonly AvailabilityPredictor? _predictor;
        private readonly NodeCandidate[] _candidates;
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        private readonly int[] _upInterval;
        private readonly List<JobState>[] _running;
        private readonly JobState[] _state;
        // The production pass's order: oldest queued first (all jobs share one priority); an interrupted job queues
        // again at the back once its backoff ends, as the scheduler grain requeues it.
        private readonly SortedSet<JobState> _pending = new(Comparer<JobState>.Create((a, b) =>
            a.QueuedAt != b.QueuedAt ? a.QueuedAt.CompareTo(b.QueuedAt) : a.Job.Index.CompareTo(b.Job.Index)));
        private readonly SchedulingPass _pass;
        private readonly Dictionary<string, NodeCandidate> _byId = new(StringComparer.Ordinal);
        private readonly Dictionary<string, JobState> _byJob = new(StringComparer.Ordinal);
        private static readonly IReadOnlyDictionary<string, Holding> NoHoldings = new Dictionary<string, Holding>();
        private readonly PriorityQueue<(EventKind Kind, int Index, int Attempt), (double, long)> _events = new();
        private readonly List<(double Predicted, double Prior, bool Stayed)> _predictions = [];
        private long _sequence;
        private double _lastPass = double.NegativeInfinity;
        private bool _passScheduled;
        private bool _dirty;
        private double _wasted;
        private int _interruptions;

        public SimulationRun(FleetTrace fleet, IReadOnlyList<SimJob> jobs, SimulationOptions options, IPlacementPolicy policy)
        {
            _fleet = fleet;
            _jobs = jobs;
            _options = options;
            _policy = policy;
            _predictor = (policy as PredictivePolicy)?.Predictor;
            _candidates = fleet.Nodes.Select(n => new NodeCandidate
            {
                NodeId = n.NodeId,
                Region = n.Region,
                Capacity = n.Capacity,
                GpuVramBytes = 24L << 30,
            }).ToArray();
            for (var i = 0; i < _candidates.Length; i++)
            {
                _index[_candidates[i].NodeId] = i;
            }

            _upInterval = new int[_candidates.Length];
            _running = _candidates.Select(_ => new List<JobState>()).ToArray();
            _state = jobs.Select(j => new JobState(j)).ToArray();
            foreach (var candidate in _candidates)
            {
                _byId[candidate.NodeId] = candidate;
            }

            foreach (var state in _state)
            {
                _byJob[state.Job.JobId] = state;
            }

            // The pass SchedulerGrain runs, with no prices, no adaptive replication and one priority (so no preemption).
            _pass = new SchedulingPass(policy, new PassRules { MaxJobs = options.JobsPerPass });
        }

        public PolicyOutcome Execute()
        {
            foreach (var node in _fleet.Nodes)
            {
                _upInterval[node.Index] = -1;
                foreach (var (start, end) in node.Up)
                {
                    Push(start, EventKind.NodeUp, node.Index);
                    if (end < _fleet.Model.Hours)
                    {
                        Push(end, EventKind.NodeDown, node.Index);
                    }
                }
            }

            foreach (var job in _jobs)
            {
                Push(job.SubmitAt, EventKind.JobArrives, job.Index);
            }

            if (_predictor is not null)
            {
                Push(_options.RefitInterval, EventKind.Refit, 0);
            }

            while (_events.TryDequeue(out var e, out var key))
            {
                var now = key.Item1;
                if (now > _fleet.Model.Hours)
                {
                    break;
                }

                Handle(e.Kind, e.Index, e.Attempt, now);
                if (_dirty && !_passScheduled)
                {
                    _passScheduled = true;
                    Push(Math.Max(now, _lastPass + _options.PassInterval), EventKind.Pass, 0);
                }
            }

            return Outcome();
        }

        private void Push(double at, EventKind kind, int index, int attempt = 0) =>
            _events.Enqueue((kind, index, attempt), (at, _sequence++));

        private static DateTimeOffset Time(double hours) => Epoch + TimeSpan.FromHours(hours);

        private void Handle(EventKind kind, int index, int attempt, double now)
        {
            switch (kind)
            {
                case EventKind.NodeUp:
                    _upInterval[index]++;
                    _candidates[index].Availability.CameUp(Time(now));
                    _dirty = true;
                    break;
                case EventKind.NodeDown:
                    NodeDown(index, now);
                    break;
                case EventKind.JobArrives or EventKind.JobRetries:
                    _pending.Add(_state[index]);
                    _dirty = true;
                    break;
                case EventKind.JobFinishes:
                    var finished = _state[index];
                    if (finished.Attempt == attempt && finished.FinishedAt is null && finished.Nodes.Length > 0)
                    {
                        finished.FinishedAt = now;
                        finished.Progress = finished.Job.WorkHours;
                        Release(finished);
                        _dirty = true;
                    }

                    break;
                case EventKind.Pass:
                    _passScheduled = false;
                    _dirty = false;
                    _lastPass = now;
                    Pass(now);
                    break;
                case EventKind.Refit:
                    _predictor!.Prior = AvailabilityPrior.Fit(
                        _candidates.Select(c => c.Availability.Recent().Select(r => r.Hours).ToArray()), _predictor.Prior);
                    Push(now + _options.RefitInterval, EventKind.Refit, 0);
                    break;
            }
        }

        private void NodeDown(int index, double now)
        {
            _candidates[index].Availability.WentDown(Time(now));
            foreach (var job in _running[index].ToArray())
            {
                Interrupt(job, now);
            }

            _dirty = true;
        }

        private void Interrupt(JobState job, double now)
        {
            var useful = Math.Max(0, now - job.StartedAt - job.Overhead);
            var reached = Math.Min(job.Job.WorkHours, job.Progress + useful);
            var saved = Math.Max(job.Progress, Math.Floor(reached / job.Job.CheckpointHours) * job.Job.CheckpointHours);
            _wasted += (now - job.StartedAt - (saved - job.Progress)) * job.Job.Replicas;
            job.Progress = saved;
            job.Interruptions++;
            _interruptions++;
            Release(job);
            job.Attempt++;
            if (job.Interruptions >= _options.MaxAttempts)
            {
                job.Failed = true;
                return;
            }

            var backoff = Math.Min(0.5 * Math.Pow(2, job.Interruptions - 1), 10) / 60;
            job.QueuedAt = now + backoff;
            Push(job.QueuedAt, EventKind.JobRetries, job.Job.Index);
        }

        private void Release(JobState job)
        {
            foreach (var nodeId in job.Nodes)
            {
                var i = _index[nodeId];
                _candidates[i].Allocated -= job.Job.PerReplica;
                _running[i].Remove(job);
            }

            job.Nodes = [];
        }

        private void Pass(double now)
        {
            if (_pending.Count == 0)
            {
                return;
            }

            var up = _candidates.Where(c => c.Availability.UpSince is not null).ToList();
            var queue = _pending.Select(job => new QueuedPlacement(job.Job.JobId,
                new PlacementRequest(job.Job.JobId, job.Job.PerReplica, 0, job.Job.Replicas, TimeSpan.FromHours(Remaining(job)), PlacementConstraints.None),
                Priority: 0, job.Attempt, Time(job.QueuedAt), Time(job.QueuedAt)));
            var outcome = _pass.Run(queue, up, _byId, () => NoHoldings, new Dictionary<string, string>(), Time(now));
            foreach (var placement in outcome.Placed)
            {
                var job = _byJob[placement.Job.JobKey];
                var remaining = Remaining(job);
                _pending.Remove(job);
                job.Nodes = [.. placement.Decision.Nodes];
                job.StartedAt = now;
                job.Overhead = job.Attempt > 0 ? job.Job.RestartHours : 0;
                foreach (var nodeId in placement.Decision.Nodes)
                {
                    var i = _index[nodeId];
                    if (!_running[i].Contains(job))
                    {
                        _running[i].Add(job);
                    }
                }

                if (_predictor is not null)
                {
                    Score(placement.Decision.Nodes.Distinct(StringComparer.Ordinal), now, remaining);
                }

                Push(now + remaining, EventKind.JobFinishes, job.Job.Index, job.Attempt);
            }
        }

        /// <summary>The hours a job still has to run: its work left, and its restart's overhead after an interruption.</summary>
        private static double Remaining(JobState job) =>
            job.Job.WorkHours - job.Progress + (job.Attempt > 0 ? job.Job.RestartHours : 0);

        private void Score(IEnumerable<string> nodes, double now, double hours)
        {
            foreach (var nodeId in nodes)
            {
                var i = _index[nodeId];
                var node = _candidates[i];
                var p = _predictor!.ProbabilityUp(node.Availability, node.Suspect, Time(now), TimeSpan.FromHours(hours));
                var age = (Time(now) - node.Availability.UpSince!.Value).TotalHours;
                var prior = _predictor.ProbabilityUpFromPrior(age, hours);
                var up = _fleet.Nodes[i].Up[_upInterval[i]];
                _predictions.Add((p, prior, up.End >= now + hours));
            }
        }

        private PolicyOutcome Outcome()
        {
            var completed = _state.Where(s => s.FinishedAt is not null).Select(s => s.FinishedAt!.Value - s.Job.SubmitAt).Order().ToArray();
            double? brier = null, brierPrior = null;
            var calibration = new List<(int, double, double)>();
            if (_predictions.Count > 0)
            {
                brier = _predictions.Average(p => Math.Pow(p.Predicted - (p.Stayed ? 1 : 0), 2));
                brierPrior = _predictions.Average(p => Math.Pow(p.Prior - (p.Stayed ? 1 : 0), 2));
                foreach (var bin in _predictions.GroupBy(p => Math.Min(9, (int)(p.Predicted * 10))).OrderBy(g => g.Key))
                {
                    calibration.Add((bin.Count(), bin.Average(p => p.Predicted), bin.Average(p => p.Stayed ? 1.0 : 0.0)));
                }
            }

            return new PolicyOutcome(
                _policy.Name,
                _jobs.Count,
                (double)completed.Length / Math.Max(1, _jobs.Count),
                completed.Length == 0 ? 0 : completed.Average(),
                completed.Length == 0 ? 0 : completed[Math.Min(completed.Length - 1, (int)Math.Ceiling(0.99 * completed.Length) - 1)],
                _state.Count(s => s.Interruptions > 0),
                _interruptions,
                _wasted,
                brier,
                brierPrior,
                _predictions.Count,
                calibration);
        }
    }
}
