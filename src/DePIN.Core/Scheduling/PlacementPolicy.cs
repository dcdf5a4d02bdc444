namespace DePIN.Core.Scheduling;

/// <summary>
/// Chooses nodes for a gang. A policy only decides: it never changes the candidates, and the caller commits the
/// decision (or not). Policies are not thread-safe; give each scheduler its own.
/// </summary>
public interface IPlacementPolicy
{
    /// <summary>The policy's name in metrics and reports (<c>random</c>, <c>first_fit</c>, …).</summary>
    string Name { get; }

    PlacementDecision Place(PlacementRequest request, IReadOnlyList<NodeCandidate> candidates, DateTimeOffset now);
}

/// <summary>Fills a gang from nodes in the order a policy ranks them.</summary>
public static class Gang
{
    public const string NoCapacity = "Not enough free capacity for the whole gang right now.";

    /// <summary>
    /// Takes replicas from each node in turn, as many as fit (one when the request wants distinct nodes), until the
    /// gang is complete. Returns null when the ranked nodes cannot hold the whole gang.
    /// </summary>
    public static string[]? Fill(PlacementRequest request, IEnumerable<NodeCandidate> ranked)
    {
        var nodes = new string[request.Replicas];
        var placed = 0;
        foreach (var node in ranked)
        {
            var copies = node.Free.CopiesOf(request.PerReplica);
            if (request.DistinctNodes)
            {
                copies = Math.Min(copies, 1);
            }

            for (var i = 0; i < copies && placed < nodes.Length; i++)
            {
                nodes[placed++] = node.NodeId;
            }

            if (placed == nodes.Length)
            {
                return nodes;
            }
        }

        return null;
    }

    /// <summary>kube-scheduler's adaptive sample: 50 % of a small fleet, falling to 5 % by 5,625 nodes, at least 100.</summary>
    public static int NodesToScore(int fleetSize)
    {
        var percent = Math.Max(5, 50 - (fleetSize / 125));
        return Math.Max(100, fleetSize * percent / 100);
    }

    /// <summary>
    /// The candidates that satisfy the request's constraints and have room for at least one replica. On a large fleet
    /// only a sample is scored, as kube-scheduler's percentageOfNodesToScore does: the search starts at a random
    /// node and stops once it has <see cref="PlacementRequest.MaxNodesToScore"/> feasible nodes (never fewer than the
    /// gang needs, when that many exist), so a placement costs the same at 10,000 nodes as at 1,000.
    /// </summary>
    public static List<NodeCandidate> Feasible(PlacementRequest request, IReadOnlyList<NodeCandidate> candidates, Random? random = null)
    {
        var feasible = new List<NodeCandidate>();
        var wanted = Math.Max(request.MaxNodesToScore, request.Replicas);
        var start = candidates.Count > wanted ? (random ?? Random.Shared).Next(candidates.Count) : 0;
        for (var i = 0; i < candidates.Count && feasible.Count < wanted; i++)
        {
            var node = candidates[(start + i) % candidates.Count];
            if (node.Free.Holds(request.PerReplica) && PlacementFilter.Eligible(request, node))
            {
                feasible.Add(node);
            }
        }

        return feasible;
    }
}

/// <summary>Baseline: any feasible nodes, uniformly at random.</summary>
public sealed class RandomPolicy(int seed) : IPlacementPolicy
{
    private readonly Random _random = new(seed);

    public string Name => "random";

    public PlacementDecision Place(PlacementRequest request, IReadOnlyList<NodeCandidate> candidates, DateTimeOffset now)
    {
        var feasible = Gang.Feasible(request, candidates, _random).ToArray();
        _random.Shuffle(feasible);
        return Gang.Fill(request, feasible) is { } nodes ? new PlacementDecision(nodes, null, null) : PlacementDecision.Wait(Gang.NoCapacity);
    }
}

/// <summary>Baseline: the first nodes that fit, in the candidates' stable order (packs work onto few nodes).</summary>
public sealed class FirstFitPolicy : IPlacementPolicy
{
    public string Name => "first_fit";

    public PlacementDecision Place(PlacementRequest request, IReadOnlyList<NodeCandidate> candidates, DateTimeOffset now) =>
        Gang.Fill(request, candidates.Where(n => n.Free.Holds(request.PerReplica) && PlacementFilter.Eligible(request, n))) is { } nodes
            ? new PlacementDecision(nodes, null, null)
            : PlacementDecision.Wait(Gang.NoCapacity);
}

/// <summary>
/// Baseline: Kubernetes' LeastAllocated spread. Nodes rank by the mean free share of CPU, memory and GPUs left after
/// one replica lands, highest first, so work spreads over the emptiest machines.
/// </summary>
/// <param name="random">Where a large fleet's sample of feasible nodes starts (<see cref="Gang.Feasible"/>); a seeded one makes a simulation repeatable.</param>
public sealed class LeastLoadedPolicy(Random? random = null) : IPlacementPolicy
{
    public string Name => "least_loaded";

    public PlacementDecision Place(PlacementRequest request, IReadOnlyList<NodeCandidate> candidates, DateTimeOffset now)
    {
        var feasible = Gang.Feasible(request, candidates, random);
        var scores = feasible.Select(n => Score(n, request.PerReplica)).ToArray();
        var order = feasible.ToArray();
        Array.Sort(scores, order, Comparer<double>.Create((a, b) => b.CompareTo(a)));
        return Gang.Fill(request, order) is { } nodes ? new PlacementDecision(nodes, null, null) : PlacementDecision.Wait(Gang.NoCapacity);
    }

    /// <summary>Mean over the resources the node has of the share still free once <paramref name="demand"/> lands.</summary>
    public static double Score(NodeCandidate node, Resources demand)
    {
        var after = node.Free - demand;
        double sum = 0;
        var count = 0;
        if (node.Capacity.CpuCores > 0)
        {
            sum += (double)after.CpuCores / node.Capacity.CpuCores;
            count++;
        }

        if (node.Capacity.MemoryBytes > 0)
        {
            sum += (double)after.MemoryBytes / node.Capacity.MemoryBytes;
            count++;
        }

        if (node.Capacity.Gpus > 0)
        {
            sum += (double)after.Gpus / node.Capacity.Gpus;
            count++;
        }

        return count == 0 ? 0 : sum / count;
    }
}
