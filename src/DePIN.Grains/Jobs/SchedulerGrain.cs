using DePIN.Abstractions;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Scheduling;
using DePIN.Grains.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace DePIN.Grains.Jobs;

[GenerateSerializer, Immutable, Alias("DePIN.QueuedJob")]
public sealed record QueuedJob([property: Id(0)] JobSpec Spec, [property: Id(1)] DateTimeOffset QueuedAt, [property: Id(2)] int Attempt);

[GenerateSerializer, Immutable, Alias("DePIN.Allocation")]
public sealed record Allocation([property: Id(0)] string[] Nodes, [property: Id(1)] ReplicaResources PerReplica);

[GenerateSerializer, Alias("DePIN.SchedulerState")]
public sealed class SchedulerState
{
    [Id(0)] public Dictionary<string, QueuedJob> Queue { get; set; } = new(StringComparer.Ordinal);
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
    DePINMetrics metrics,
    ILogger<SchedulerGrain> logger)
    : Grain, ISchedulerGrain, IStreamSubscriptionObserver, IAsyncObserver<NodeEvent>
{
    private readonly SchedulerOptions _options = options.Value;
    private readonly Dictionary<string, NodeCandidate> _nodes = new(StringComparer.Ordinal);
    private Dictionary<string, Allocation> _allocations = new(StringComparer.Ordinal);
    private List<NodeCandidate>? _ordered; // the placeable nodes in id order; null until needed after a change
    private List<NodeCandidate> _fleet = [];
    private readonly Dictionary<string, NodeAvailability> _availability = new(StringComparer.Ordinal);
    private readonly GroupCommit _commit = new(state.WriteStateAsync, options.Value.CommitDelay);
    private IPlacementPolicy _policy = null!;
    private DateTimeOffset _directoryReadAt = DateTimeOffset.MinValue;
    private IGrainTimer? _kick;
    private bool _passing;
    private bool _passAgain;

    private SchedulerState Ledger => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A job recorded in the ledger was placed, even if the queue's write did not follow before a crash.
        _allocations = await AllocationLedger.Load(GrainFactory);
        if (Ledger.Queue.Keys.Where(_allocations.ContainsKey).ToList() is { Count: > 0 } placed)
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
        this.RegisterGrainTimer(Pass, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.Zero,
            Period = _options.PassInterval,
            Interleave = true,
        });

        // A new job starts a pass at once instead of waiting for the next tick.
        _kick = this.RegisterGrainTimer(Pass, new GrainTimerCreationOptions
        {
            DueTime = Timeout.InfiniteTimeSpan,
            Period = Timeout.InfiniteTimeSpan,
            Interleave = true,
        });
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => _commit.Pending;

    public Task Enqueue(string jobKey, JobSpec spec)
    {
        if (Ledger.Queue.ContainsKey(jobKey) || _allocations.ContainsKey(jobKey))
        {
            return Task.CompletedTask;
        }

        Ledger.Queue[jobKey] = new QueuedJob(spec, clock.UtcNow, 0);
        _kick?.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        return _commit.Persist();
    }

    public async Task Release(string jobKey)
    {
        if (_allocations.Remove(jobKey, out var allocation))
        {
            foreach (var nodeId in allocation.Nodes)
            {
                if (_nodes.TryGetValue(nodeId, out var node))
                {
                    node.Allocated -= Resources(allocation.PerReplica);
                }
            }

            await AllocationLedger.Shard(GrainFactory, jobKey).Remove(jobKey);
        }

        if (Ledger.Queue.Remove(jobKey))
        {
            await _commit.Persist();
        }
    }

    public async Task<Dictionary<string, string[]>> Impossible(JobSpec spec)
    {
        var request = Request("impossible", spec, TimeSpan.Zero, 0);
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

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        handleFactory.Create<NodeEvent>().ResumeAsync(this);

    public async Task OnNextAsync(NodeEvent item, StreamSequenceToken? token = null)
    {
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
    /// Every gang holding the lost node lets go of all its nodes and queues again: its replicas resume elsewhere from
    /// the last checkpoint.
    /// </summary>
    private async Task Evacuate(string nodeId, NodeStatus status)
    {
        var reason = status == NodeStatus.Offline ? "node_offline" : status.ToString().ToLowerInvariant();
        var hit = _allocations.Where(a => a.Value.Nodes.Contains(nodeId, StringComparer.Ordinal)).Select(a => a.Key).ToList();
        foreach (var jobKey in hit)
        {
            await Release(jobKey);
            metrics.JobInterrupted(reason);
            await GrainFactory.GetGrain<IJobGrain>(jobKey).Interrupted($"Node {nodeId} went {status.ToString().ToLowerInvariant()}; queued again.");
        }
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
                if (Ledger.Queue.Count == 0)
                {
                    return;
                }

                await RefreshDirectory();
                var placed = PlaceQueued();
                if (placed.Count == 0)
                {
                    continue;
                }

                // The ledger first: a placement recorded there is never made twice, even if the queue's write is lost.
                await Task.WhenAll(placed.Select(p => AllocationLedger.Shard(GrainFactory, p.JobKey).Record(p.JobKey, _allocations[p.JobKey])));
                await _commit.Persist();
                await Task.WhenAll(placed.Select(p => Notify(p.JobKey, p.Attempt, p.Nodes)));
            }
            while (_passAgain);
        }
        finally
        {
            _passing = false;
        }
    }

    private async Task Notify(string jobKey, int attempt, string[] nodes)
    {
        var assignments = nodes.Select((node, replica) => new JobAssignment(replica, node, attempt)).ToArray();
        if (!await GrainFactory.GetGrain<IJobGrain>(jobKey).Placed(attempt, assignments))
        {
            await Release(jobKey); // cancelled meanwhile
        }
    }

    /// <summary>One synchronous sweep over the queue, highest priority and oldest first; commits to the ledger.</summary>
    private List<(string JobKey, int Attempt, string[] Nodes)> PlaceQueued()
    {
        var now = clock.UtcNow;
        var candidates = _ordered ??= [.. _nodes.Values.OrderBy(n => n.NodeId, StringComparer.Ordinal)];
        var sample = Gang.NodesToScore(candidates.Count);

        // Fleet load in the dominant dimension: GPUs where nodes have them, cores elsewhere.
        static long Units(Resources r) => Math.Max(r.Gpus, r.CpuCores);
        var capacity = candidates.Sum(n => Units(n.Capacity));
        var used = candidates.Sum(n => Units(n.Allocated));
        var placed = new List<(string, int, string[])>();
        foreach (var (jobKey, job) in Ledger.Queue.OrderByDescending(j => j.Value.Spec.Priority).ThenBy(j => j.Value.QueuedAt).ToList())
        {
            var request = Request(jobKey, job.Spec, now - job.QueuedAt, capacity == 0 ? 1 : (double)used / capacity) with { MaxNodesToScore = sample };
            var decision = _policy.Place(request, candidates, now);
            metrics.PlacementDecided(_policy.Name, decision.Placed ? "placed" : "waiting");
            if (!decision.Placed)
            {
                continue;
            }

            foreach (var nodeId in decision.Nodes)
            {
                var node = _nodes[nodeId];
                used -= Units(node.Allocated);
                node.Allocated += request.PerReplica;
                used += Units(node.Allocated);
            }

            metrics.Placed(now - job.QueuedAt);

            Ledger.Queue.Remove(jobKey);
            _allocations[jobKey] = new Allocation([.. decision.Nodes], job.Spec.Resources);
            placed.Add((jobKey, job.Attempt + 1, [.. decision.Nodes]));
            LogPlaced(jobKey, decision.Nodes.Distinct().Count(), decision.SuccessProbability);
        }

        return placed;
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
            foreach (var nodeId in allocation.Nodes)
            {
                if (seen.TryGetValue(nodeId, out var node))
                {
                    node.Allocated += Resources(allocation.PerReplica);
                }
            }
        }

        _nodes.Clear();
        foreach (var (id, node) in seen)
        {
            _nodes[id] = node;
        }

        _ordered = null;
        _fleet = fleet;
        _directoryReadAt = clock.UtcNow;
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

    private static PlacementRequest Request(string jobKey, JobSpec spec, TimeSpan waited, double load)
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
            DistinctNodes: spec.Verification.Redundancy > 1, Waited: waited, FleetLoad: load);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Placed {JobKey} on {Nodes} node(s); predicted to stay whole with p={Probability}")]
    private partial void LogPlaced(string jobKey, int nodes, double? probability);
}
