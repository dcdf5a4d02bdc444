namespace DePIN.Core.Scheduling;

/// <summary>A job in the scheduler's queue, as a pass sees it.</summary>
/// <param name="Request">The placement question; the pass sets its <c>Waited</c>, <c>FleetLoad</c> and <c>MaxNodesToScore</c>.</param>
/// <param name="Priority">Higher goes first, and may preempt lower.</param>
/// <param name="Attempt">Which placement of the job this is (1 for the first).</param>
/// <param name="QueuedAt">When it joined the queue: among equal priorities the oldest goes first.</param>
/// <param name="NotBefore">It is backing off after a failure until then.</param>
public sealed record QueuedPlacement(
    string JobKey, PlacementRequest Request, int Priority, int Attempt, DateTimeOffset QueuedAt, DateTimeOffset NotBefore);

/// <summary>What a placed job holds: a node per slot, each slot taking <paramref name="PerReplica"/>.</summary>
public sealed record Holding(IReadOnlyList<string> Nodes, Resources PerReplica, int Priority, int Attempt);

/// <summary>A job the pass placed: the question it answered (adaptive replication may have widened it) and the answer.</summary>
public sealed record PassPlacement(QueuedPlacement Job, PlacementRequest Request, PlacementDecision Decision);

/// <summary>What one pass decided.</summary>
/// <param name="Placed">The jobs placed, in the order they were; their nodes are already charged.</param>
/// <param name="Victims">Lower-priority jobs to preempt, each with the job it makes room for.</param>
/// <param name="Waiting">How many jobs were tried and left waiting.</param>
public sealed record PassOutcome(IReadOnlyList<PassPlacement> Placed, IReadOnlyList<(string Victim, string For)> Victims, int Waiting);

/// <summary>What a pass may do beyond asking the policy.</summary>
public sealed class PassRules
{
    /// <summary>
    /// The regions a job may be placed in at the lease rates its price cap meets: null when its price limits nothing,
    /// empty when no region it may use is affordable (it waits with <see cref="SchedulingPass.PricedOut"/>).
    /// </summary>
    public Func<QueuedPlacement, IReadOnlyList<string>?> AffordableRegions { get; init; } = _ => null;

    /// <summary>
    /// Adaptive replication (BOINC's): given a placed job and the lowest reputation among its chosen nodes, the
    /// number of replicas to run instead, on distinct nodes; null to keep the placement as it is.
    /// </summary>
    public Func<QueuedPlacement, double, int?> MoreReplicas { get; init; } = (_, _) => null;

    /// <summary>At most this many blocked jobs look for victims in one pass (each search scans the fleet).</summary>
    public int MaxPreemptionSearches { get; init; } = 4;

    /// <summary>At most this many lower-priority jobs are preempted to make room for one job.</summary>
    public int MaxVictims { get; init; } = 8;

    /// <summary>At most this many queued jobs are tried in one pass, in queue order.</summary>
    public int MaxJobs { get; init; } = int.MaxValue;
}

/// <summary>
/// One scheduling pass, the same in production (<c>SchedulerGrain</c>) and in the schedule simulation: queued jobs,
/// highest priority and oldest first (<see cref="InQueueOrder"/>), are placed by the policy on the candidates, whose allocations it charges as it
/// goes; a job its price cap keeps out of every region waits; a placement on nodes not yet trusted may run more copies;
/// a job that finds no room may name lower-priority jobs to preempt. Synchronous: it reads and charges the
/// candidates and nothing else.
/// </summary>
public sealed class SchedulingPass(IPlacementPolicy policy, PassRules rules)
{
    /// <summary>Why a job waits when no region it may use has a rate its price cap meets.</summary>
    public const string PricedOut = "No allowed region's lease rate is within the job's price cap.";

    public IPlacementPolicy Policy { get; } = policy;

    /// <param name="queue">The queue in the order to try it (<see cref="InQueueOrder"/>: highest priority, then oldest); read lazily.</param>
    /// <param name="candidates">The placeable nodes, in a stable order (the policies' sampling and first-fit follow it).</param>
    /// <param name="nodes">The same nodes by id.</param>
    /// <param name="holdings">What each placed job holds, for preemption (read only when a job looks for victims).</param>
    /// <param name="preempting">Victims already asked to stop, each with the job they make room for; the pass adds to it.</param>
    public PassOutcome Run(
        IEnumerable<QueuedPlacement> queue, IReadOnlyList<NodeCandidate> candidates, IReadOnlyDictionary<string, NodeCandidate> nodes,
        Func<IReadOnlyDictionary<string, Holding>> holdings, IDictionary<string, string> preempting, DateTimeOffset now)
    {
        IReadOnlyDictionary<string, Holding>? held = null;
        var placed = new List<PassPlacement>();
        var victims = new List<(string, string)>();
        var waiting = 0;
        var searches = 0;
        var sample = Gang.NodesToScore(candidates.Count);

        // The fleet's load (PlacementRequest.FleetLoad: GPUs for a job that wants GPUs, else cores) and what is free: a
        // gang that asks more than the free total waits without a policy call (every policy would answer no capacity).
        long gpus = 0, cores = 0, freeGpus = 0, freeCores = 0;
        foreach (var node in candidates)
        {
            gpus += node.Capacity.Gpus;
            cores += node.Capacity.CpuCores;
            freeGpus += Math.Max(0, node.Free.Gpus);
            freeCores += Math.Max(0, node.Free.CpuCores);
        }

        foreach (var job in queue.Where(j => j.NotBefore <= now).Take(rules.MaxJobs))
        {
            var load = job.Request.PerReplica.Gpus > 0
                ? (gpus == 0 ? 1 : 1 - ((double)freeGpus / gpus))
                : (cores == 0 ? 1 : 1 - ((double)freeCores / cores));
            var (request, decision) = Decide(job, now, load, sample, candidates, nodes, freeGpus, freeCores);
            if (!decision.Placed)
            {
                waiting++;
                if (decision.Reason == Gang.NoCapacity)
                {
                    victims.AddRange(Victims(job, request, candidates, nodes, held ??= holdings(), preempting, ref searches).Select(v => (v, job.JobKey)));
                }

                continue;
            }

            foreach (var nodeId in decision.Nodes)
            {
                nodes[nodeId].Allocated += request.PerReplica;
            }

            freeGpus -= (long)decision.Nodes.Count * request.PerReplica.Gpus;
            freeCores -= (long)decision.Nodes.Count * request.PerReplica.CpuCores;
            placed.Add(new PassPlacement(job, request, decision));
        }

        return new PassOutcome(placed, victims, waiting);
    }

    /// <summary>The order a pass tries the queue in: highest priority first, then the longest queued.</summary>
    public static IEnumerable<QueuedPlacement> InQueueOrder(IEnumerable<QueuedPlacement> queue) =>
        queue.OrderByDescending(j => j.Priority).ThenBy(j => j.QueuedAt);

    private (PlacementRequest, PlacementDecision) Decide(
        QueuedPlacement job, DateTimeOffset now, double load, int sample, IReadOnlyList<NodeCandidate> candidates,
        IReadOnlyDictionary<string, NodeCandidate> nodes, long freeGpus, long freeCores)
    {
        var request = job.Request with { Waited = now - job.QueuedAt, FleetLoad = load, MaxNodesToScore = sample };
        if (rules.AffordableRegions(job) is { } affordable)
        {
            if (affordable.Count == 0)
            {
                return (request, PlacementDecision.Wait(PricedOut));
            }

            request = request with { Constraints = request.Constraints with { Regions = [.. affordable] } };
        }

        if ((long)request.Replicas * request.PerReplica.Gpus > freeGpus || (long)request.Replicas * request.PerReplica.CpuCores > freeCores)
        {
            return (request, PlacementDecision.Wait(Gang.NoCapacity));
        }

        var decision = Policy.Place(request, candidates, now);
        if (!decision.Placed || rules.MoreReplicas(job, decision.Nodes.Min(n => nodes[n].Reputation)) is not { } replicas ||
            replicas == request.Replicas)
        {
            return (request, decision);
        }

        var checkedMore = request with { Replicas = replicas, DistinctNodes = true };
        var more = Policy.Place(checkedMore, candidates, now);
        return more.Placed ? (checkedMore, more) : (request, decision);
    }

    /// <summary>
    /// The fewest lower-priority jobs (lowest priority first) whose nodes, once freed, would give the job the capacity
    /// it lacks; none when even all of them would not. Victims checkpoint and stop before their nodes free up, and the
    /// policy then places the job as usual. At most <see cref="PassRules.MaxPreemptionSearches"/> jobs search per
    /// pass, each over the whole fleet.
    /// </summary>
    private List<string> Victims(
        QueuedPlacement job, PlacementRequest request, IReadOnlyList<NodeCandidate> candidates, IReadOnlyDictionary<string, NodeCandidate> nodes,
        IReadOnlyDictionary<string, Holding> holdings, IDictionary<string, string> preempting, ref int searches)
    {
        if (preempting.Values.Contains(job.JobKey) || searches >= rules.MaxPreemptionSearches ||
            !holdings.Values.Any(h => h.Priority < job.Priority))
        {
            return []; // already waiting for victims to stop, out of searches, or nobody to preempt
        }

        searches++;
        var wide = request with { MaxNodesToScore = int.MaxValue };
        var lower = holdings.Where(h => h.Value.Priority < job.Priority && !preempting.ContainsKey(h.Key))
            .OrderBy(h => h.Value.Priority).ThenByDescending(h => h.Value.Attempt)
            .Take(rules.MaxVictims).ToList();
        var freed = new List<Holding>();
        var chosen = new List<string>();
        try
        {
            foreach (var (victim, holding) in lower)
            {
                Charge(holding, nodes, release: true);
                freed.Add(holding);
                chosen.Add(victim);
                if (Gang.Fill(wide, Gang.Feasible(wide, candidates)) is not null)
                {
                    foreach (var key in chosen)
                    {
                        preempting[key] = job.JobKey;
                    }

                    return chosen;
                }
            }

            return [];
        }
        finally
        {
            freed.ForEach(h => Charge(h, nodes)); // the what-if is over: put them back
        }
    }

    /// <summary>Adds what a holding takes to its nodes that are listed (or, to release it, takes it off).</summary>
    public static void Charge(Holding holding, IReadOnlyDictionary<string, NodeCandidate> nodes, bool release = false)
    {
        foreach (var nodeId in holding.Nodes)
        {
            if (nodes.TryGetValue(nodeId, out var node))
            {
                node.Allocated = release ? node.Allocated - holding.PerReplica : node.Allocated + holding.PerReplica;
            }
        }
    }
}
