using DePIN.Core.Economy;
using DePIN.Simulation.Scheduling;

namespace DePIN.Simulation.Economy;

/// <summary>How the market simulation draws its providers, tenants and time.</summary>
/// <param name="Nodes">Machines in the churn trace (GPU boxes in six regions that come and go).</param>
/// <param name="Days">Days of arrivals, after <paramref name="WarmupHours"/> that are not measured.</param>
/// <param name="Load">Offered GPU-hours as a share of the GPU-hours the fleet is up, before the surge.</param>
/// <param name="SurgeLoad">Extra load offered during the surge (a day's afternoon when a big customer arrives).</param>
/// <param name="ProviderCostMedian">Median of what a provider needs per GPU-hour to keep its machine offered (credits).</param>
/// <param name="ValueMedian">Median of what a tenant will pay per GPU-hour at most (credits): its price cap.</param>
/// <param name="PatienceHours">Mean time a job waits for its first start before its tenant gives up.</param>
/// <param name="ReviewHours">How often a provider reconsiders offering its machine, against the region's mean rate since
/// it last did (staggered over providers): supply answers price over hours, not at every step.</param>
/// <param name="StepHours">Time step; the market moves rates every <paramref name="RateSteps"/> steps.</param>
public sealed record MarketModel(
    int Nodes = 1000,
    int Days = 7,
    double WarmupHours = 12,
    double Load = 0.7,
    double SurgeLoad = 1.2,
    double ProviderCostMedian = 1.0,
    double ValueMedian = 1.4,
    double PatienceHours = 8,
    double ReviewHours = 6,
    double StepHours = 1 / 12.0,
    int RateSteps = 3);

/// <summary>What one pricing achieved. Money in microcredits; <see cref="TenantCostPerGpuHour"/> in credits.</summary>
/// <param name="Utilisation">GPU-hours leased over GPU-hours offered (up and priced in), measured after the warm-up.</param>
/// <param name="InBand">Share of region-steps whose utilisation lay inside the controller's target band.</param>
/// <param name="MeanQueueHours">Mean time a job spent queued before its first start, or before its tenant gave up (or the
/// run ended): every job that arrived after the warm-up counts, so jobs priced out or starved are not left out.</param>
/// <param name="MeanWaitStartedHours">The same over the jobs that started only.</param>
/// <param name="ProviderIncomeGini">Gini coefficient of what the fleet's providers earned, every node counted.</param>
/// <param name="TenantCostPerGpuHour">What tenants paid per GPU-hour served (credits).</param>
/// <param name="SupplyConserved">The whole chain verified offline and every unit summed to zero.</param>
public sealed record MarketOutcome(
    string Pricing,
    double Utilisation,
    double InBand,
    double MeanQueueHours,
    double MeanWaitStartedHours,
    double ProviderIncomeGini,
    double TenantCostPerGpuHour,
    bool SupplyConserved,
    int Jobs,
    int Started,
    int GaveUp,
    double ServedGpuHours,
    double OfferedGpuHours,
    long Postings,
    int Refused,
    IReadOnlyDictionary<string, long> FinalRates);

/// <summary>
/// A deterministic market in virtual time: the churn trace's GPU machines, each offered by a provider only while it
/// is up and the region's rate covers the provider's cost; tenants' jobs (the churn simulation's job trace, plus a
/// surge) that each run in one region, pay at most their cap per GPU-hour, and give up if not started within their
/// patience. Jobs start oldest first where the rate meets the cap and GPUs are free, at the rate of that moment,
/// fixed for the lease; a machine that goes down interrupts its jobs, which are paid for the hours they ran and
/// queue again. Every payment is a posting decided by <see cref="LedgerBook"/> with the <see cref="Settlement"/>
/// builders production uses (escrow, lease less the fee, refund), and the chain is verified at the end. Rates are
/// either fixed at the class's base rate or moved by production's <see cref="PriceController"/> from
/// <see cref="Market.Observe"/>: the same trace, the same draws, only the pricing differs.
/// </summary>
public sealed class MarketSimulation(MarketModel model, int seed)
{
    private readonly FleetTrace _fleet = FleetTrace.Generate(new ChurnModel(model.Nodes, model.WarmupHours + (model.Days + 1) * 24.0), seed);

    public IReadOnlyList<SimNode> Nodes => _fleet.Nodes;

    /// <summary>Gini coefficient of non-negative values: 0 when all are equal, towards 1 when one holds everything.</summary>
    public static double Gini(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var total = sorted.Sum();
        if (sorted.Length == 0 || total <= 0)
        {
            return 0;
        }

        double weighted = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            weighted += (i + 1) * sorted[i];
        }

        return (2 * weighted / (sorted.Length * total)) - ((sorted.Length + 1.0) / sorted.Length);
    }

    public MarketOutcome Run(PriceController? controller)
    {
        var run = new MarketRun(model, _fleet, Demand(), Costs(), controller);
        return run.Execute();
    }

    /// <summary>Each machine's provider cost per GPU-hour, microcredits.</summary>
    private long[] Costs()
    {
        var random = new Random(unchecked((seed * 7) + 3));
        return [.. _fleet.Nodes.Select(_ => AccountId.Microcredits((decimal)Math.Clamp(random.LogNormal(model.ProviderCostMedian, 0.4), 0.1, 5)))];
    }

    /// <summary>The job trace and a surge, each job with its region, cap and patience.</summary>
    private List<MarketJob> Demand()
    {
        // Arrivals begin at once, so the market is formed when measuring begins after the warm-up.
        var from = 0.0;
        var until = model.WarmupHours + (model.Days * 24.0);
        var surgeFrom = model.WarmupHours + (2 * 24.0) + 10;
        var shapes = JobTrace.Generate(new JobMix(model.Load, from, until), _fleet, seed)
            .Concat(JobTrace.Generate(new JobMix(model.SurgeLoad, surgeFrom, surgeFrom + 8, DailySwing: 0), _fleet, seed + 1))
            .OrderBy(j => j.SubmitAt)
            .ToList();
        var random = new Random(unchecked((seed * 13) + 5));
        return [.. shapes.Select((j, i) => new MarketJob(
            $"job{i:D6}",
            FleetTrace.Regions[random.Next(FleetTrace.Regions.Count)].Region,
            j.Replicas * j.PerReplica.Gpus,
            j.SubmitAt,
            j.WorkHours,
            AccountId.Microcredits((decimal)Math.Clamp(random.LogNormal(model.ValueMedian, 0.5), 0.1, 10)),
            random.Exponential(model.PatienceHours)))];
    }
}

/// <summary>A tenant's job: <paramref name="Gpus"/> GPUs in <paramref name="Region"/> for <paramref name="WorkHours"/>, at most <paramref name="Cap"/> a GPU-hour.</summary>
internal sealed record MarketJob(string Id, string Region, int Gpus, double ArrivesAt, double WorkHours, long Cap, double PatienceHours);

/// <summary>One run of <see cref="MarketSimulation"/> with one pricing.</summary>
internal sealed class MarketRun
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);
    private static readonly EconomyRules Rules = EconomyRules.Default;

    private readonly MarketModel _model;
    private readonly FleetTrace _fleet;
    private readonly List<MarketJob> _jobs;
    private readonly long[] _costs;
    private readonly bool[] _offering;
    private readonly Dictionary<string, (double Sum, int Count)> _rateSinceReview = new(StringComparer.Ordinal);
    private readonly PriceController? _controller;
    private readonly Dictionary<string, long> _rates = new(StringComparer.Ordinal);
    private readonly int[] _free;
    private readonly int[] _upIndex;
    private readonly List<Running> _running = [];
    private readonly LinkedList<Waiting> _queue = new();
    private readonly Ledger _ledger = new();
    private readonly Dictionary<string, (long Leased, long Offered, int InBand, int Samples)> _regions = new(StringComparer.Ordinal);
    private readonly List<double> _waits = [];
    private readonly List<double> _queued = [];
    private double _served;
    private long _paid;
    private int _gaveUp;
    private int _arrived;

    public MarketRun(MarketModel model, FleetTrace fleet, List<MarketJob> jobs, long[] costs, PriceController? controller)
    {
        _model = model;
        _fleet = fleet;
        _jobs = jobs;
        _costs = costs;
        _offering = [.. costs.Select(c => c <= ResourceClass.BaseRate(ResourceClass.Gpu))];
        _controller = controller;
        _free = [.. fleet.Nodes.Select(n => n.Capacity.Gpus)];
        _upIndex = new int[fleet.Nodes.Count];
        foreach (var (region, _) in FleetTrace.Regions)
        {
            _rates[region] = ResourceClass.BaseRate(ResourceClass.Gpu);
            _ledger.Open(AccountId.Tenant(region));
            _ledger.Post(Postings.Deposit(AccountId.Tenant(region), $"fund:{region}", PostingRules.MaxAmount / 8));
        }

        foreach (var node in fleet.Nodes)
        {
            _ledger.Open(AccountId.Provider(node.NodeId));
        }
    }

    private sealed record Waiting(MarketJob Job, double QueuedAt, double WorkLeft, int Attempt, bool Started);

    private sealed class Running(MarketJob job, int attempt, double startedAt, double workLeft, long rate, List<(int Node, int Gpus)> nodes)
    {
        public MarketJob Job { get; } = job;
        public int Attempt { get; } = attempt;
        public double StartedAt { get; } = startedAt;
        public double WorkLeft { get; } = workLeft;
        public long Rate { get; } = rate;
        public List<(int Node, int Gpus)> Nodes { get; } = nodes;
    }

    public MarketOutcome Execute()
    {
        var end = _model.WarmupHours + ((_model.Days + 1) * 24.0);
        var next = 0;
        var step = 0;
        for (var t = 0.0; t < end; t += _model.StepHours, step++)
        {
            Finish(t); // a job done before its machine went down in the same step has finished
            Interrupt(t);
            Review(step);
            if (_controller is not null && step % _model.RateSteps == 0)
            {
                MoveRates(t);
            }

            while (next < _jobs.Count && _jobs[next].ArrivesAt <= t)
            {
                _queue.AddLast(new Waiting(_jobs[next], _jobs[next].ArrivesAt, _jobs[next].WorkHours, 1, false));
                next++;
                _arrived++;
            }

            GiveUp(t);
            Place(t);
            Measure(t);
            _ledger.Now = Epoch.AddHours(t + _model.StepHours);
        }

        foreach (var waiting in _queue.Where(w => !w.Started))
        {
            Queued(waiting.Job, end); // still waiting when the run ends: censored there
        }

        return Outcome();
    }

    private bool IsUp(int node, double t)
    {
        var up = _fleet.Nodes[node].Up;
        while (_upIndex[node] < up.Count && up[_upIndex[node]].End <= t)
        {
            _upIndex[node]++;
        }

        return _upIndex[node] < up.Count && up[_upIndex[node]].Start <= t;
    }

    /// <summary>Offered: up, and its provider chose to offer it at its last review.</summary>
    private bool Offered(int node, double t) => _offering[node] && IsUp(node, t);

    /// <summary>
    /// Providers whose turn it is compare their cost with the mean rate their region had over the last review period:
    /// they offer their machine while it covers the cost and withdraw it (once its leases end) when it does not.
    /// </summary>
    private void Review(int step)
    {
        foreach (var (region, rate) in _rates)
        {
            var (sum, count) = _rateSinceReview.GetValueOrDefault(region);
            _rateSinceReview[region] = (sum + rate, count + 1);
        }

        var period = Math.Max(1, (int)Math.Round(_model.ReviewHours / _model.StepHours));
        for (var i = step % period; i < _offering.Length; i += period)
        {
            var (sum, count) = _rateSinceReview[_fleet.Nodes[i].Region];
            _offering[i] = sum / count >= _costs[i];
        }

        if (step % period == period - 1)
        {
            _rateSinceReview.Clear();
        }
    }

    /// <summary>A machine that went down ends every lease on it: the hours run are paid, the rest queues again.</summary>
    private void Interrupt(double t)
    {
        for (var i = _running.Count - 1; i >= 0; i--)
        {
            var run = _running[i];
            if (run.Nodes.All(n => IsUp(n.Node, t)))
            {
                continue;
            }

            var ran = t - run.StartedAt;
            Settle(run, ran);
            _running.RemoveAt(i);
            _queue.AddFirst(new Waiting(run.Job, t, run.WorkLeft - ran, run.Attempt + 1, true));
        }
    }

    private void Finish(double t)
    {
        for (var i = _running.Count - 1; i >= 0; i--)
        {
            var run = _running[i];
            if (t - run.StartedAt >= run.WorkLeft)
            {
                Settle(run, run.WorkLeft);
                _running.RemoveAt(i);
            }
        }
    }

    /// <summary>The attempt's lease at the rate fixed when it started, then what escrow has left back to the tenant.</summary>
    private void Settle(Running run, double hours)
    {
        var escrow = AccountId.Escrow(run.Job.Region, run.Job.Id);
        var leases = run.Nodes.Select(n => new SlotLease(_fleet.Nodes[n.Node].NodeId, run.Rate * n.Gpus, 1, 1, hours, SlotOutcome.Verified)).ToList();
        var gross = Settlement.Gross(leases, _ledger.Balance(escrow));
        if (Settlement.Lease($"lease:{run.Job.Id}:{run.Attempt}", escrow, gross, Rules) is { } lease)
        {
            _ledger.Post(lease);
            _paid += gross.Values.Sum();
        }

        if (Settlement.Refund($"refund:{run.Job.Id}:{run.Attempt}", run.Job.Region, escrow, _ledger.Balance(escrow)) is { } refund)
        {
            _ledger.Post(refund);
        }

        foreach (var (node, gpus) in run.Nodes)
        {
            _free[node] += gpus;
        }

        _served += hours * run.Job.Gpus;
    }

    private void MoveRates(double t)
    {
        var supply = _fleet.Nodes.Where((n, i) => Offered(i, t) || _free[i] < n.Capacity.Gpus).Select((n) =>
            new MarketSupply(n.Region, 0, n.Capacity.Gpus, 0, n.Capacity.Gpus - _free[n.Index]));
        var demand = _queue.Select(w => new MarketDemand([w.Job.Region], ResourceClass.Gpu, 1, w.Job.Gpus, w.Job.Cap));
        foreach (var observed in Market.Observe(supply, demand, (region, _) => _rates[region]).Where(o => o.Class == ResourceClass.Gpu))
        {
            _rates[observed.Region] = _controller!.Next(_rates[observed.Region], observed);
        }
    }

    private void GiveUp(double t)
    {
        for (var node = _queue.First; node is not null;)
        {
            var following = node.Next;
            var waiting = node.Value;
            if (!waiting.Started && t - waiting.Job.ArrivesAt > waiting.Job.PatienceHours)
            {
                _queue.Remove(node);
                _gaveUp++;
                Queued(waiting.Job, t);
            }

            node = following;
        }
    }

    /// <summary>Oldest first: a job starts where the rate meets its cap and its region has the GPUs free and offered.</summary>
    private void Place(double t)
    {
        var free = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < _free.Length; i++)
        {
            if (_free[i] > 0 && Offered(i, t))
            {
                var region = _fleet.Nodes[i].Region;
                if (!free.TryGetValue(region, out var list))
                {
                    free[region] = list = [];
                }

                list.Add(i);
            }
        }

        for (var node = _queue.First; node is not null;)
        {
            var following = node.Next;
            var waiting = node.Value;
            var job = waiting.Job;
            var rate = _rates[job.Region];
            if (rate <= job.Cap && free.TryGetValue(job.Region, out var candidates) && candidates.Sum(i => _free[i]) >= job.Gpus)
            {
                Start(waiting, rate, candidates, t);
                _queue.Remove(node);
            }

            node = following;
        }
    }

    private void Start(Waiting waiting, long rate, List<int> candidates, double t)
    {
        var job = waiting.Job;
        var nodes = new List<(int Node, int Gpus)>();
        var needed = job.Gpus;
        foreach (var i in candidates.OrderByDescending(i => _free[i]).ThenBy(i => i))
        {
            if (needed == 0)
            {
                break;
            }

            var take = Math.Min(needed, _free[i]);
            if (take > 0)
            {
                nodes.Add((i, take));
                _free[i] -= take;
                needed -= take;
            }
        }

        var escrow = AccountId.Escrow(job.Region, job.Id);
        _ledger.Open(escrow);
        _ledger.Post(Settlement.Escrow($"escrow:{job.Id}:{waiting.Attempt}", job.Region, escrow,
            Settlement.Budget(job.Cap, job.Gpus, waiting.WorkLeft * 3600)));
        _running.Add(new Running(job, waiting.Attempt, t, waiting.WorkLeft, rate, nodes));
        if (!waiting.Started && job.ArrivesAt >= _model.WarmupHours)
        {
            _waits.Add(t - job.ArrivesAt);
        }

        if (!waiting.Started)
        {
            Queued(job, t);
        }
    }

    private void Queued(MarketJob job, double until)
    {
        if (job.ArrivesAt >= _model.WarmupHours)
        {
            _queued.Add(until - job.ArrivesAt);
        }
    }

    /// <summary>Per region: GPUs leased and GPUs offered (leased ones count as offered: their provider is bound by the lease).</summary>
    private void Measure(double t)
    {
        if (t < _model.WarmupHours)
        {
            return;
        }

        var leased = new Dictionary<string, long>(StringComparer.Ordinal);
        var offered = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < _free.Length; i++)
        {
            var node = _fleet.Nodes[i];
            var busy = node.Capacity.Gpus - _free[i];
            if (busy > 0 || Offered(i, t))
            {
                leased[node.Region] = leased.GetValueOrDefault(node.Region) + busy;
                offered[node.Region] = offered.GetValueOrDefault(node.Region) + node.Capacity.Gpus;
            }
        }

        var band = _controller?.Options ?? PriceControllerOptions.Default;
        foreach (var (region, _) in FleetTrace.Regions)
        {
            var (l, o) = (leased.GetValueOrDefault(region), offered.GetValueOrDefault(region));
            var sums = _regions.GetValueOrDefault(region);
            var share = o == 0 ? 0 : (double)l / o;
            _regions[region] = (sums.Leased + l, sums.Offered + o, sums.InBand + (share >= band.TargetLow && share <= band.TargetHigh ? 1 : 0), sums.Samples + 1);
        }
    }

    private MarketOutcome Outcome()
    {
        var report = _ledger.Verify();
        var incomes = _fleet.Nodes.Select(n => (double)_ledger.Balance(AccountId.Provider(n.NodeId))).ToArray();
        var totals = _regions.Values.Aggregate((Leased: 0L, Offered: 0L, InBand: 0, Samples: 0),
            (a, r) => (a.Leased + r.Leased, a.Offered + r.Offered, a.InBand + r.InBand, a.Samples + r.Samples));
        var stepHours = _model.StepHours;
        return new MarketOutcome(
            _controller is null ? "fixed" : "learnt",
            totals.Offered == 0 ? 0 : (double)totals.Leased / totals.Offered,
            totals.Samples == 0 ? 0 : (double)totals.InBand / totals.Samples,
            _queued.Count == 0 ? 0 : _queued.Average(),
            _waits.Count == 0 ? 0 : _waits.Average(),
            MarketSimulation.Gini(incomes),
            _served == 0 ? 0 : _paid / (double)AccountId.PerCredit / _served,
            report.Valid,
            _arrived,
            _arrived - _gaveUp - _queue.Count(w => !w.Started),
            _gaveUp,
            _served,
            totals.Offered * stepHours,
            report.Postings,
            _ledger.Refused,
            new Dictionary<string, long>(_rates, StringComparer.Ordinal));
    }

    /// <summary>The simulation's ledger: every posting decided by <see cref="LedgerBook"/>, the chain kept to verify at the end.</summary>
    private sealed class Ledger
    {
        private readonly Dictionary<string, LedgerAccount> _accounts = new(StringComparer.Ordinal);
        private readonly Dictionary<string, PostedReceipt> _taken = new(StringComparer.Ordinal);
        private readonly List<ChainedPosting> _chain = [];
        private LedgerHead _head = LedgerHead.Empty;

        public Ledger()
        {
            Open(AccountId.External);
            Open(AccountId.Treasury);
        }

        public int Refused { get; private set; }

        /// <summary>The virtual time postings are stamped with.</summary>
        public DateTimeOffset Now { get; set; } = Epoch;

        public void Open(string id) => _accounts.TryAdd(id, new LedgerAccount(id, AccountId.KindOf(id)!.Value, AccountId.Unit, 0));

        /// <summary>Decides and appends one posting at once: the next may depend on the balances it leaves.</summary>
        public void Post(Posting posting)
        {
            var result = LedgerBook.Decide(_head, _accounts, _taken, [posting], Now);
            _head = result.Head;
            _chain.AddRange(result.Appended);
            if (!result.Decisions[0].Accepted)
            {
                Refused++;
            }
        }

        public long Balance(string id) => _accounts.TryGetValue(id, out var a) ? a.Balance : 0;

        public LedgerReport Verify()
        {
            var verifier = new LedgerVerifier(_accounts.ToDictionary(a => a.Key, a => (a.Value.Kind, a.Value.Unit), StringComparer.Ordinal));
            _chain.ForEach(verifier.Add);
            return verifier.Finish(_accounts.Where(a => a.Value.Balance != 0).ToDictionary(a => a.Key, a => a.Value.Balance, StringComparer.Ordinal));
        }
    }
}
