using DePIN.Abstractions;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Economy;
using DePIN.Core.Economy;
using DePIN.Core.Scheduling;
using DePIN.Core.Work;
using DePIN.Grains.Diagnostics;
using DePIN.Grains.Economy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace DePIN.Grains.Jobs;

/// <summary>A job waiting for its <paramref name="Attempt"/>-th placement, not before <paramref name="NotBefore"/>.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.QueuedJob")]
public sealed record QueuedJob(
    [property: Id(0)] JobSpec Spec,
    [property: Id(1)] DateTimeOffset QueuedAt,
    [property: Id(2)] int Attempt,
    [property: Id(3)] DateTimeOffset NotBefore);

/// <summary>What one attempt of a job holds: a node per slot (repeated when a node holds several).</summary>
[GenerateSerializer, Immutable, Alias("DePIN.Allocation")]
public sealed record Allocation(
    [property: Id(0)] string[] Nodes,
    [property: Id(1)] ReplicaResources PerReplica,
    [property: Id(2)] int Priority,
    [property: Id(3)] int Attempt,
    [property: Id(4)] long[]? Rates = null,
    [property: Id(5)] double[]? Forecasts = null);

[GenerateSerializer, Alias("DePIN.SchedulerState")]
public sealed class SchedulerState
{
    [Id(0)] public Dictionary<string, QueuedJob> Queue { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Lease rates by <c>{region}/{class}</c>, microcredits per unit-hour; a missing one is the class's base rate.</summary>
    [Id(1)] public Dictionary<string, long> Rates { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The scheduler: a durable queue, an allocation ledger kept in memory and recorded in sharded ledger grains, a copy of the directory's summaries refreshed every few
/// seconds, and each node's availability history fed by the fleet's node events. Passes place queued gangs with the
/// configured policy. It is reentrant, and every change to its state happens synchronously within one turn, so
/// requests that interleave with a pass's awaits never see a half-made placement.
/// </summary>
[Reentrant]
[ImplicitStreamSubscription(StreamNames.NodeEvents)]
public sealed partial class SchedulerGrain(
    [PersistentState("scheduler", StorageNames.Jobs)] IPersistentState<SchedulerState> state,
    PlatformClock clock,
    IOptions<SchedulerOptions> options,
    IOptions<JobOptions> jobOptions,
    IOptions<EconomyOptions> economy,
    DePINMetrics metrics,
    ILogger<SchedulerGrain> logger)
    : Grain, ISchedulerGrain, IStreamSubscriptionObserver, IAsyncObserver<NodeEvent>, IRemindable
{
    private readonly SchedulerOptions _options = options.Value;
    private readonly Dictionary<string, NodeCandidate> _nodes = new(StringComparer.Ordinal);
    private Dictionary<string, Allocation> _allocations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _preempting = new(StringComparer.Ordinal); // victim → the job it makes room for
    private readonly HashSet<string> _unannounced = new(StringComparer.Ordinal); // placed, but the job was not told yet
    private readonly Dictionary<string, Allocation> _announcing = new(StringComparer.Ordinal); // being told now, of this allocation
    private readonly Queue<string> _watch = new(); // jobs holding nodes, in the order they are next checked on
    private List<NodeCandidate>? _ordered; // the placeable nodes in id order; null until needed after a change
    private List<NodeCandidate> _fleet = [];
    private readonly Dictionary<string, NodeAvailability> _availability = new(StringComparer.Ordinal);
    private readonly GroupCommit _commit = new(state.WriteStateAsync, options.Value.CommitDelay);
    private readonly PriceController _prices = new();
    private readonly AvailabilityPredictor _forecaster = new(AvailabilityPrior.Default);
    private IPlacementPolicy _policy = null!;
    private SchedulingPass _pass = null!;
    private DateTimeOffset _directoryReadAt = DateTimeOffset.MinValue;
    private bool _readingDirectory; // a reading of the directory is under way beside the passes
    private IGrainTimer? _kick;
    private bool _passing;
    private bool _passAgain;

    private SchedulerState Ledger => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A job recorded in the ledger was placed, even if the queue's write did not follow before a crash.
        _allocations = await AllocationLedger.Load(GrainFactory);
        _unannounced.UnionWith(_allocations.Keys);
        if (Ledger.Queue.Where(q => PlacedAlready(q.Key, q.Value)).Select(q => q.Key).ToList() is { Count: > 0 } placed)
        {
            placed.ForEach(key => Ledger.Queue.Remove(key));
            await state.WriteStateAsync();
        }

        _policy = _options.Policy switch
        {
            "random" => new RandomPolicy(Environment.TickCount),
            "first_fit" => new FirstFitPolicy(),
            "least_loaded" => new LeastLoadedPolicy(),
            _ => new PredictivePolicy(new AvailabilityPredictor(AvailabilityPrior.Default)),
        };
        _pass = new SchedulingPass(_policy, new PassRules
        {
            AffordableRegions = Affordable,
            MoreReplicas = MoreReplicas,
            MaxPreemptionSearches = _options.MaxPreemptionSearches,
            MaxVictims = _options.MaxVictims,
        });
        // A reminder brings the scheduler back after its silo dies, so queued jobs do not wait for the next call.
        await this.RegisterOrUpdateReminder("keepalive", TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        this.RegisterGrainTimer(Pass, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.Zero,
            Period = _options.PassInterval,
            Interleave = true,
        });

        this.RegisterGrainTimer(Watch, new GrainTimerCreationOptions
        {
            DueTime = _options.PassInterval,
            Period = _options.PassInterval,
            Interleave = true,
        });

        this.RegisterGrainTimer(MoveRates, new GrainTimerCreationOptions
        {
            DueTime = economy.Value.RateInterval,
            Period = economy.Value.RateInterval,
            Interleave = true,
        });
        ReportRates();

        // A new job starts a pass at once instead of waiting for the next tick.
        _kick = this.RegisterGrainTimer(Pass, new GrainTimerCreationOptions
        {
            DueTime = Timeout.InfiniteTimeSpan,
            Period = Timeout.InfiniteTimeSpan,
            Interleave = true,
        });
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.ForgetRates();
        return _commit.Pending;
    }

    public Task Enqueue(string jobKey, JobSpec spec)
    {
        if (Ledger.Queue.ContainsKey(jobKey) || _allocations.ContainsKey(jobKey))
        {
            return Task.CompletedTask;
        }

        Ledger.Queue[jobKey] = new QueuedJob(spec, clock.UtcNow, 1, clock.UtcNow);
        _kick?.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        return _commit.Persist();
    }

    public async Task Requeue(string jobKey, JobSpec spec, int attempt, DateTimeOffset notBefore)
    {
        if (_allocations.TryGetValue(jobKey, out var held) && held.Attempt >= attempt)
        {
            LogRequeueHeld(jobKey, attempt, held.Attempt);
            if (held.Attempt == attempt && !Ledger.Queue.ContainsKey(jobKey))
            {
                // A job still asking for the attempt it holds, once recorded (until then it stays queued), was not told
                // of it: tell it (again). Not awaited: the job waits on this call, and would answer the telling only after it.
                _unannounced.Add(jobKey);
                _ = AnnouncePlacements();
            }

            return;
        }

        // The new attempt is queued durably before the old one's nodes are freed in the allocation ledger: a crash
        // between the two leaves the old nodes held, and the watchdog's check of the job frees them; the other order
        // could leave a job that is neither queued nor holding nodes, which nothing would ever look at again.
        var freed = Free(jobKey);
        if (!(Ledger.Queue.TryGetValue(jobKey, out var queued) && queued.Attempt >= attempt))
        {
            Ledger.Queue[jobKey] = new QueuedJob(spec, clock.UtcNow, attempt, notBefore);
            LogRequeued(jobKey, attempt, notBefore);
            _kick?.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            await _commit.Persist();
        }

        if (freed is not null)
        {
            await AllocationLedger.Shard(GrainFactory, jobKey).Remove(jobKey, freed.Attempt);
        }
    }

    public async Task Release(string jobKey)
    {
        if (Free(jobKey) is { } freed)
        {
            await AllocationLedger.Shard(GrainFactory, jobKey).Remove(jobKey, freed.Attempt);
        }

        if (Ledger.Queue.Remove(jobKey))
        {
            await _commit.Persist();
        }
    }

    /// <summary>Frees the job's nodes in memory; what it held, if anything (the allocation ledger still lists it).</summary>
    private Allocation? Free(string jobKey)
    {
        _preempting.Remove(jobKey);
        if (!_allocations.Remove(jobKey, out var allocation))
        {
            return null;
        }

        SchedulingPass.Charge(Held(allocation), _nodes, release: true);
        return allocation;
    }

    public async Task<Dictionary<string, string[]>> Impossible(JobSpec spec)
    {
        var request = Request("impossible", spec);
        await RefreshDirectory();
        if (_fleet.Count == 0 || PlacementFilter.Impossible(request, _fleet) is null)
        {
            return [];
        }

        // Refuse only on a fresh reading: a node that registered a moment ago may be the one that fits.
        await RefreshDirectory(force: true);
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (_fleet.Count > 0 && PlacementFilter.Impossible(request, _fleet) is { } why)
        {
            problems[why.Field] = [why.Reason];
        }

        return problems;
    }

    public Task<MarketRate[]> Rates() => Task.FromResult(RateCells().Select(c => new MarketRate(c.Region, c.Class, Rate(c.Region, c.Class))).ToArray());

    /// <summary>The rate of a region and class now: microcredits per unit-hour.</summary>
    private long Rate(string region, string resourceClass) =>
        Ledger.Rates.TryGetValue($"{region}/{resourceClass}", out var rate) ? rate : ResourceClass.BaseRate(resourceClass);

    /// <summary>Every region and class the fleet supplies, and any the market has set a rate for.</summary>
    private IEnumerable<(string Region, string Class)> RateCells() => _nodes.Values
        .SelectMany(n => n.Capacity.Gpus > 0 ? new[] { (n.Region, ResourceClass.Cpu), (n.Region, ResourceClass.Gpu) } : [(n.Region, ResourceClass.Cpu)])
        .Concat(Ledger.Rates.Keys.Select(k => (k[..k.LastIndexOf('/')], k[(k.LastIndexOf('/') + 1)..])))
        .Distinct()
        .OrderBy(c => c.Item1, StringComparer.Ordinal).ThenBy(c => c.Item2, StringComparer.Ordinal);

    /// <summary>
    /// One step of the market: each region's and class's rate moves with its supply in use and its queued demand
    /// (<see cref="PriceController"/>), and the new rates join the next write of the scheduler's state.
    /// </summary>
    private async Task MoveRates(CancellationToken cancellationToken)
    {
        if (_nodes.Count == 0)
        {
            return;
        }

        var supply = _nodes.Values.Select(n => new MarketSupply(n.Region, n.Capacity.CpuCores, n.Capacity.Gpus, n.Allocated.CpuCores, n.Allocated.Gpus));
        var demand = Ledger.Queue.Where(q => !PlacedAlready(q.Key, q.Value)).Select(q => q.Value.Spec).Select(spec => new MarketDemand(spec.Constraints.Regions,
            ResourceClass.Of(spec.Resources.Gpus), ResourceClass.Units(spec.Resources.CpuCores, spec.Resources.Gpus), spec.Replicas * spec.Verification.Redundancy,
            AccountId.Microcredits(spec.MaxPricePerReplicaHour)));
        foreach (var observed in Market.Observe(supply, demand, Rate))
        {
            Ledger.Rates[$"{observed.Region}/{observed.Class}"] = _prices.Next(Rate(observed.Region, observed.Class), observed);
        }

        ReportRates();
        _kick?.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan); // a job priced out may fit now
        await DropPlacedFromQueue(); // the state's next write carries the rates; a failed one is retried by the next
    }

    private void ReportRates()
    {
        foreach (var (region, resourceClass) in RateCells())
        {
            metrics.ReportRate(region, resourceClass, Rate(region, resourceClass) / (double)AccountId.PerCredit);
        }
    }

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        handleFactory.Create<NodeEvent>().ResumeAsync(this);

    public async Task OnNextAsync(NodeEvent item, StreamSequenceToken? token = null)
    {
        if (NodeEvent.MarkerId(item) is not null)
        {
            return; // a subscriber making sure it is attached
        }

        var history = History(item.NodeId);
        if (item.Current == NodeStatus.Online)
        {
            history.CameUp(item.At);
        }
        else if (item.Current is NodeStatus.Offline or NodeStatus.Draining or NodeStatus.Quarantined)
        {
            history.WentDown(item.At);
            if (_nodes.Remove(item.NodeId)) // no new placements until the directory says otherwise
            {
                _ordered = null;
            }

            await Evacuate(item.NodeId, item.Current);
        }
    }

    /// <summary>
    /// Every gang holding the lost node ends its attempt: the other replicas checkpoint and stop, then the job frees
    /// its nodes and queues again, to resume elsewhere from its checkpoints. An offline node's agent has stopped on
    /// its own (its lease ran out first); a draining one checkpoints and stops when asked.
    /// </summary>
    private async Task Evacuate(string nodeId, NodeStatus status)
    {
        var hit = _allocations.Where(a => a.Value.Nodes.Contains(nodeId, StringComparer.Ordinal)).Select(a => a.Key).ToList();
        await Task.WhenAll(hit.Select(jobKey => GrainFactory.Ref<IJobGrain>(jobKey).Interrupted(nodeId, status,
            $"Node {nodeId} went {status.ToString().ToLowerInvariant()}; the job resumes elsewhere from its checkpoints.")));
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

    private async Task Pass(CancellationToken cancellationToken)
    {
        // The tick and the kick may fire together: one pass at a time, and one more if asked meanwhile.
        if (_passing)
        {
            _passAgain = true;
            return;
        }

        _passing = true;
        try
        {
            do
            {
                _passAgain = false;
                if (_unannounced.Count > 0)
                {
                    _ = AnnouncePlacements();
                }

                if (Ledger.Queue.Count == 0)
                {
                    return;
                }

                await DirectoryForPass();
                var (placed, victims) = PlaceQueued();
                await Task.WhenAll(victims.Select(v => Preempt(v.Victim, v.For)));

                if (placed.Count == 0)
                {
                    continue;
                }

                // The ledger first: a placement recorded there is never made twice, even if the queue's write is lost.
                // Until its record is durable a placed job stays in the queue (passes skip it, see PlacedAlready), so that no
                // write of the queue meanwhile, for another job or for the rates, can drop a job the ledger lacks.
                var recorded = (await Task.WhenAll(placed.Select(Record))).OfType<string>().ToList();
                if (recorded.Count == 0)
                {
                    continue;
                }

                // The queue's write, which drops them from the queue, need not hold up the next pass: activation
                // reconciles a queue written late against the ledger. (Waiting on it put the commit delay into every
                // job's time to placement.)
                _ = DropPlacedFromQueue();
                _unannounced.UnionWith(recorded);
                _ = AnnouncePlacements(); // not awaited: the next pass need not wait for jobs to take note
            }
            while (_passAgain);
        }
        finally
        {
            _passing = false;
        }
    }

    /// <summary>
    /// Makes a placement durable in the allocation ledger, then drops its job from the queue in memory (the queue's
    /// next write carries that); the job's key, or null when the record failed: the placement is undone and the job,
    /// still queued, waits for the next pass. (A record that was written although its call failed is reconciled at
    /// the next activation, or overwritten by the next placement.)
    /// </summary>
    private async Task<string?> Record((string JobKey, Allocation Allocation) placement)
    {
        var (jobKey, allocation) = placement;
        try
        {
            await AllocationLedger.Shard(GrainFactory, jobKey).Record(jobKey, allocation);
        }
        catch (Exception ex)
        {
            LogRecordFailed(ex, jobKey);
            if (_allocations.TryGetValue(jobKey, out var now) && ReferenceEquals(now, allocation))
            {
                Free(jobKey);
            }

            return null;
        }

        if (Ledger.Queue.TryGetValue(jobKey, out var queued) && queued.Attempt <= allocation.Attempt)
        {
            Ledger.Queue.Remove(jobKey); // unless requeued for a later attempt meanwhile
        }

        return _allocations.TryGetValue(jobKey, out var held) && ReferenceEquals(held, allocation) ? jobKey : null;
    }

    /// <summary>A queued attempt that holds nodes already: its ledger record is being written (or, at activation, the queue's write after it was lost).</summary>
    private bool PlacedAlready(string jobKey, QueuedJob queued) => _allocations.TryGetValue(jobKey, out var a) && a.Attempt >= queued.Attempt;

    /// <summary>
    /// Tells each newly placed job its nodes. A job that cannot be reached now (its silo just died) is told on a later
    /// pass; telling twice is harmless, so after a restart every allocation in the ledger is told again. A job placed
    /// anew while an older placement is still being told is told of the new one at once. Never throws: failures stay
    /// in <see cref="_unannounced"/>.
    /// </summary>
    private Task AnnouncePlacements()
    {
        var due = new List<(string JobKey, Allocation Allocation)>();
        foreach (var jobKey in _unannounced.ToList())
        {
            if (!_allocations.TryGetValue(jobKey, out var allocation))
            {
                _unannounced.Remove(jobKey); // freed meanwhile: nothing to tell
            }
            else if (!(_announcing.TryGetValue(jobKey, out var telling) && ReferenceEquals(telling, allocation)))
            {
                _announcing[jobKey] = allocation;
                due.Add((jobKey, allocation));
            }
        }

        return Task.WhenAll(due.Select(d => Announce(d.JobKey, d.Allocation)));
    }

    private async Task Announce(string jobKey, Allocation allocation)
    {
        try
        {
            var assignments = allocation.Nodes.Select((node, replica) => new JobAssignment(replica, node, allocation.Attempt,
                allocation.Rates?[replica] ?? 0, allocation.Forecasts?[replica] ?? 0)).ToArray();
            var wanted = await GrainFactory.Ref<IJobGrain>(jobKey).Placed(allocation.Attempt, assignments);
            if (!(_allocations.TryGetValue(jobKey, out var now) && ReferenceEquals(now, allocation)))
            {
                return; // the answer is about an attempt freed or replaced meanwhile; a new one is told on its own
            }

            _unannounced.Remove(jobKey);
            if (!wanted)
            {
                await Release(jobKey); // cancelled meanwhile
            }
        }
        catch (Exception ex)
        {
            LogAnnounceFailed(ex, jobKey);
        }
        finally
        {
            if (_announcing.TryGetValue(jobKey, out var telling) && ReferenceEquals(telling, allocation))
            {
                _announcing.Remove(jobKey);
            }
        }
    }

    private async Task Preempt(string victim, string forJob)
    {
        try
        {
            await GrainFactory.GetGrain<IJobGrain>(victim)
                .Preempt($"Preempted by higher-priority job {JobKey.Parse(forJob).JobId}; it resumes from its checkpoints.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _preempting.Remove(victim); // a later pass searches again
            LogAnnounceFailed(ex, victim);
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask; // activating is the point

    /// <summary>
    /// Has every job that holds nodes check on itself once per <see cref="JobOptions.WatchdogPeriod"/>, a share each
    /// tick: the jobs' watchdog, kept here because the scheduler already knows them all and comes back after a crash.
    /// </summary>
    private async Task Watch(CancellationToken cancellationToken)
    {
        var share = (int)Math.Ceiling(_allocations.Count * (_options.PassInterval / jobOptions.Value.WatchdogPeriod));
        var due = new List<string>(share);
        var refilled = false;
        while (due.Count < share)
        {
            if (_watch.Count == 0)
            {
                if (refilled)
                {
                    break;
                }

                foreach (var key in _allocations.Keys)
                {
                    _watch.Enqueue(key);
                }

                refilled = true;
                continue;
            }

            var jobKey = _watch.Dequeue();
            if (_allocations.ContainsKey(jobKey))
            {
                due.Add(jobKey);
            }
        }

        IJobGrain[] jobs;
        try
        {
            jobs = [.. due.Select(jobKey => GrainFactory.Ref<IJobGrain>(jobKey))];
        }
        catch (ObjectDisposedException)
        {
            // This process's services are gone: the silo stopped without waiting for this grain to deactivate (it
            // does when grains are slow to), and a timer tick still came. There is nothing left to check.
            return;
        }

        await Task.WhenAll(jobs.Select(async (job, i) =>
        {
            try
            {
                await job.Check();
            }
            catch (Exception ex)
            {
                LogCheckFailed(ex, due[i]); // checked again next round
            }
        }));
    }

    /// <summary>
    /// One synchronous pass over the queue (<see cref="SchedulingPass"/>, the schedule simulation's too); commits what
    /// it placed to the ledger and returns it, with the lower-priority jobs to preempt.
    /// </summary>
    private (List<(string JobKey, Allocation Allocation)> Placed, IReadOnlyList<(string Victim, string For)> Victims) PlaceQueued()
    {
        var now = clock.UtcNow;
        var candidates = _ordered ??= [.. _nodes.Values.OrderBy(n => n.NodeId, StringComparer.Ordinal)];
        var queue = SchedulingPass.InQueueOrder(Ledger.Queue.Where(q => !PlacedAlready(q.Key, q.Value)).Select(q => new QueuedPlacement(
            q.Key, Request(q.Key, q.Value.Spec), q.Value.Spec.Priority, q.Value.Attempt, q.Value.QueuedAt, q.Value.NotBefore))).ToList();
        var outcome = _pass.Run(queue, candidates, _nodes,
            () => _allocations.ToDictionary(a => a.Key, a => Held(a.Value), StringComparer.Ordinal), _preempting, now);

        if (outcome.Waiting > 0)
        {
            metrics.PlacementDecided(_policy.Name, "waiting", outcome.Waiting);
        }

        var placed = new List<(string, Allocation)>();
        foreach (var (job, _, decision) in outcome.Placed)
        {
            metrics.PlacementDecided(_policy.Name, "placed");
            metrics.Placed(now - job.QueuedAt);
            var spec = Ledger.Queue[job.JobKey].Spec;
            var (rates, forecasts) = Leases(spec, decision.Nodes, now);
            var allocation = new Allocation([.. decision.Nodes], spec.Resources, spec.Priority, job.Attempt, rates, forecasts);
            _allocations[job.JobKey] = allocation;
            placed.Add((job.JobKey, allocation));
            LogPlaced(job.JobKey, decision.Nodes.Distinct().Count(), decision.SuccessProbability);
        }

        return (placed, outcome.Victims);
    }

    /// <summary>The regions whose lease rate the job's price cap meets (<see cref="Market.Affordable"/>); null when its cap limits none.</summary>
    private IReadOnlyList<string>? Affordable(QueuedPlacement job)
    {
        var spec = Ledger.Queue[job.JobKey].Spec;
        var resourceClass = ResourceClass.Of(spec.Resources.Gpus);
        return Market.Affordable(spec.Constraints.Regions, RateCells().Where(c => c.Class == resourceClass).Select(c => c.Region), resourceClass,
            ResourceClass.Units(spec.Resources.CpuCores, spec.Resources.Gpus), AccountId.Microcredits(spec.MaxPricePerReplicaHour), Rate);
    }

    /// <summary>
    /// With adaptive verification, a placement on any node not yet trusted runs more copies (BOINC's adaptive
    /// replication), as many as its value at risk calls for; null to keep the copies the job asked for.
    /// </summary>
    private int? MoreReplicas(QueuedPlacement job, double lowestReputation)
    {
        var spec = Ledger.Queue[job.JobKey].Spec;
        if (!spec.Verification.Adaptive)
        {
            return null;
        }

        var value = Settlement.Budget(AccountId.Microcredits(spec.MaxPricePerReplicaHour), spec.Replicas * spec.Verification.Redundancy, spec.EstimatedSeconds);
        var copies = Reputation.Copies(spec.Verification.Redundancy, adaptive: true, lowestReputation, value, economy.Value.Rules.AcceptableLoss);
        return copies == spec.Verification.Redundancy ? null : spec.Replicas * copies;
    }

    /// <summary>Why a job waits when no region it may use has a rate its price cap meets.</summary>
    public const string PricedOut = SchedulingPass.PricedOut;

    /// <summary>Each slot's lease rate (its node's region and class rate, per replica-hour) and its node's forecast.</summary>
    private (long[] Rates, double[] Forecasts) Leases(JobSpec spec, IReadOnlyList<string> nodes, DateTimeOffset now)
    {
        var resourceClass = ResourceClass.Of(spec.Resources.Gpus);
        var predictor = (_policy as PredictivePolicy)?.Predictor ?? _forecaster;
        var duration = TimeSpan.FromSeconds(spec.EstimatedSeconds);
        var rates = new long[nodes.Count];
        var forecasts = new double[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = _nodes[nodes[i]];
            rates[i] = Market.ReplicaRate(Rate(node.Region, resourceClass), spec.Resources.CpuCores, spec.Resources.Gpus);
            forecasts[i] = Math.Round(predictor.ProbabilityUp(node.Availability, node.Suspect, now, duration), 4);
        }

        return (rates, forecasts);
    }

    /// <summary>What an allocation takes from its nodes, as the pass charges it.</summary>
    private static Holding Held(Allocation allocation) =>
        new(allocation.Nodes, Resources(allocation.PerReplica), allocation.Priority, allocation.Attempt);

    /// <summary>
    /// The directory copy a pass places with. Only the first reading is waited for: later ones run beside the passes
    /// (at 100,000 nodes a reading takes hundreds of milliseconds, which every job queued meanwhile used to wait) and
    /// take over when complete, in one synchronous step that charges the ledger's allocations as of that moment.
    /// </summary>
    private Task DirectoryForPass()
    {
        if (_directoryReadAt == DateTimeOffset.MinValue)
        {
            return RefreshDirectory();
        }

        if (!_readingDirectory && clock.UtcNow - _directoryReadAt >= _options.DirectoryRefresh)
        {
            _readingDirectory = true;
            _ = ReadDirectoryBeside();
        }

        return Task.CompletedTask;
    }

    private async Task ReadDirectoryBeside()
    {
        try
        {
            await RefreshDirectory(force: true);
            if (Ledger.Queue.Count > 0)
            {
                _kick?.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan); // a waiting job may fit a node this reading found
            }
        }
        catch (Exception ex)
        {
            LogDirectoryReadFailed(ex); // the passes go on with the copy they have; the next pass tries again
        }
        finally
        {
            _readingDirectory = false;
        }
    }

    private async Task RefreshDirectory(bool force = false)
    {
        if (!force && clock.UtcNow - _directoryReadAt < _options.DirectoryRefresh)
        {
            return;
        }

        var query = GrainFactory.GetGrain<INodeQueryGrain>(0);
        var seen = new Dictionary<string, NodeCandidate>(StringComparer.Ordinal);
        var fleet = new List<NodeCandidate>();
        string? after = null;
        while (true)
        {
            var page = await query.List(new NodeQuery(After: after, Limit: NodeQuery.MaxLimit));
            foreach (var node in page.Where(n => n.Status != NodeStatus.Quarantined))
            {
                var candidate = Candidate(node);
                fleet.Add(candidate);
                if (node.Status is NodeStatus.Online or NodeStatus.Suspect)
                {
                    seen[node.NodeId] = candidate;
                }
            }

            if (page.Length < NodeQuery.MaxLimit)
            {
                break;
            }

            after = page[^1].NodeId;
        }

        // What the ledger holds is allocated, whatever the directory says.
        foreach (var allocation in _allocations.Values)
        {
            SchedulingPass.Charge(Held(allocation), seen);
        }

        _nodes.Clear();
        foreach (var (id, node) in seen)
        {
            _nodes[id] = node;
        }

        _ordered = null;
        _fleet = fleet;
        _directoryReadAt = clock.UtcNow;
        ReportRates(); // a region or class the fleet did not supply before has its rate on /metrics from now
    }

    private NodeCandidate Candidate(NodeSummary node)
    {
        var history = History(node.NodeId);
        if (history.UpSince is null && node.Status == NodeStatus.Online)
        {
            history.CameUp(node.StatusChangedAt); // learnt from the directory before any event
        }

        return new NodeCandidate
        {
            NodeId = node.NodeId,
            Region = node.Region,
            Latitude = node.Latitude,
            Longitude = node.Longitude,
            Capacity = new Resources(node.CpuCores, node.MemoryBytes, node.GpuCount),
            GpuVramBytes = node.GpuCount > 0 ? node.GpuVramBytes / node.GpuCount : 0,
            Suspect = node.Status == NodeStatus.Suspect,
            Reputation = node.Reputation,
            Availability = history,
        };
    }

    private NodeAvailability History(string nodeId)
    {
        if (!_availability.TryGetValue(nodeId, out var history))
        {
            history = new NodeAvailability();
            _availability[nodeId] = history;
        }

        return history;
    }

    private static Resources Resources(ReplicaResources r) => new(r.CpuCores, r.MemoryBytes, r.Gpus);

    /// <summary>The placement question a job asks; the pass adds how long it waited, the fleet's load and the sample size.</summary>
    private static PlacementRequest Request(string jobKey, JobSpec spec)
    {
        var c = spec.Constraints;
        var constraints = new PlacementConstraints(
            c.Regions,
            c.NearLatitude is { } lat && c.NearLongitude is { } lon ? new GeoPoint(lat, lon) : null,
            c.MaxDistanceKm,
            c.MaxLatencyMs,
            c.Labels);
        return new PlacementRequest(jobKey, Resources(spec.Resources), spec.Resources.MinGpuVramBytes,
            spec.Replicas * spec.Verification.Redundancy, TimeSpan.FromSeconds(spec.EstimatedSeconds), constraints,
            DistinctNodes: spec.Verification.Redundancy > 1);
    }

    private async Task DropPlacedFromQueue()
    {
        try
        {
            await _commit.Persist();
        }
        catch (Exception ex)
        {
            // The placements stand (the ledger has them); the next write of the queue carries this one's change too.
            LogQueueWriteFailed(ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The scheduler could not read the node directory; placing with its last copy")]
    private partial void LogDirectoryReadFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The scheduler's queue could not be written after a pass; its next write carries the change")]
    private partial void LogQueueWriteFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobKey} could not be told of its placement or preemption; trying again next pass")]
    private partial void LogAnnounceFailed(Exception exception, string jobKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobKey}'s placement could not be recorded in the allocation ledger; it stays queued for the next pass")]
    private partial void LogRecordFailed(Exception exception, string jobKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobKey} could not check on itself; trying again next round")]
    private partial void LogCheckFailed(Exception exception, string jobKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobKey} queued for attempt {Attempt}, not before {NotBefore}")]
    private partial void LogRequeued(string jobKey, int attempt, DateTimeOffset notBefore);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobKey} asked for attempt {Attempt} while attempt {Held} holds its nodes; nothing to do")]
    private partial void LogRequeueHeld(string jobKey, int attempt, int held);

    [LoggerMessage(Level = LogLevel.Information, Message = "Placed {JobKey} on {Nodes} node(s); predicted to stay whole with p={Probability}")]
    private partial void LogPlaced(string jobKey, int nodes, double? probability);
}
