namespace DePIN.Core.Inference;

/// <summary>A node serving a model, as a router sees it.</summary>
/// <param name="Slots">Requests it serves at once.</param>
/// <param name="ServiceMs">Its mean time to answer one request, measured.</param>
/// <param name="Reputation">0 to 1, from verification (1 for a node never caught wrong).</param>
public sealed record ServingNode(int Index, string Region, double Latitude, double Longitude, int Slots, double ServiceMs, double Reputation);

/// <summary>One request to route: where it comes from, and the region its data must stay in, if any.</summary>
public sealed record RouteRequest(string ClientRegion, double Latitude, double Longitude, string? Residency);

/// <summary>
/// Picks the node for each request. The router is told what it can know: which nodes the directory says are up,
/// and the outcome of each request it routed (its latency, or that it timed out), from which it may learn.
/// </summary>
public interface IInferenceRouter
{
    string Name { get; }

    /// <summary>The node for <paramref name="request"/> at <paramref name="nowMs"/>, never one in <paramref name="tried"/>; -1 when none is left.</summary>
    int Choose(RouteRequest request, double nowMs, IReadOnlySet<int> tried);

    /// <summary>The outcome of a request sent to <paramref name="node"/>: its latency, or null for a timeout.</summary>
    void Observe(RouteRequest request, int node, double nowMs, double? latencyMs);

    /// <summary>Requests in flight on <paramref name="node"/> changed by <paramref name="delta"/>.</summary>
    void InFlight(int node, int delta);
}

/// <summary>Shared bookkeeping: the fleet, the directory's view of who is up, residency, and in-flight counts.</summary>
public abstract class RouterBase(IReadOnlyList<ServingNode> nodes, Func<int, double, bool> directorySaysUp) : IInferenceRouter
{
    protected IReadOnlyList<ServingNode> Nodes { get; } = nodes;

    protected int[] Load { get; } = new int[nodes.Count];

    public abstract string Name { get; }

    public abstract int Choose(RouteRequest request, double nowMs, IReadOnlySet<int> tried);

    public virtual void Observe(RouteRequest request, int node, double nowMs, double? latencyMs)
    {
    }

    public void InFlight(int node, int delta) => Load[node] += delta;

    /// <summary>Whether the node may serve the request: up as far as the directory knows, in the residency region, not tried.</summary>
    protected bool Eligible(ServingNode node, RouteRequest request, double nowMs, IReadOnlySet<int> tried) =>
        !tried.Contains(node.Index) && (request.Residency is null || node.Region == request.Residency) && directorySaysUp(node.Index, nowMs);
}

/// <summary>Baselines that pick uniformly at random among the eligible nodes they prefer.</summary>
public abstract class UniformRouter(IReadOnlyList<ServingNode> nodes, Func<int, double, bool> up, int seed) : RouterBase(nodes, up)
{
    private readonly Random _random = new(seed);
    private readonly List<int> _candidates = [];

    /// <summary>A random eligible node that <paramref name="preferred"/> admits, else any eligible node; -1 when none is.</summary>
    protected int Pick(RouteRequest request, double nowMs, IReadOnlySet<int> tried, Func<ServingNode, bool> preferred)
    {
        _candidates.Clear();
        _candidates.AddRange(Nodes.Where(n => preferred(n) && Eligible(n, request, nowMs, tried)).Select(n => n.Index));
        if (_candidates.Count == 0)
        {
            _candidates.AddRange(Nodes.Where(n => Eligible(n, request, nowMs, tried)).Select(n => n.Index));
        }

        return _candidates.Count == 0 ? -1 : _candidates[_random.Next(_candidates.Count)];
    }
}

/// <summary>Baseline: any eligible node, uniformly.</summary>
public sealed class RandomRouter(IReadOnlyList<ServingNode> nodes, Func<int, double, bool> up, int seed) : UniformRouter(nodes, up, seed)
{
    public override string Name => "random";

    public override int Choose(RouteRequest request, double nowMs, IReadOnlySet<int> tried) => Pick(request, nowMs, tried, _ => true);
}

/// <summary>Baseline: a random eligible node in the client's own region (the nearest region by its centre), else any.</summary>
public sealed class NearestRegionRouter(IReadOnlyList<ServingNode> nodes, Func<int, double, bool> up, int seed) : UniformRouter(nodes, up, seed)
{
    public override string Name => "nearest_region";

    public override int Choose(RouteRequest request, double nowMs, IReadOnlySet<int> tried) =>
        Pick(request, nowMs, tried, n => n.Region == request.ClientRegion);
}

/// <summary>
/// Latency-aware routing: for each eligible node, the expected time to an answer is the measured round trip from
/// the client's region (a noisy probe at first, then an exponentially weighted average of the round trips it
/// observes), plus the wait its in-flight requests imply (load over slots, times its service time), plus its service
/// time, divided by its reputation. The node with the least wins. A node that timed out is avoided for
/// <see cref="SuspectMs"/>, long before the directory notices it has gone.
/// </summary>
public sealed class LatencyAwareRouter : RouterBase
{
    public const double SuspectMs = 30_000;
    private const double Smoothing = 0.2;

    private readonly Dictionary<string, double[]> _rtt = [];
    private readonly double[] _suspectUntil;
    private readonly Func<string, int, double> _probe;

    /// <param name="probe">A measured round trip (noisy) from a client region to a node, in ms: the router's only source of latency before it has traffic.</param>
    public LatencyAwareRouter(IReadOnlyList<ServingNode> nodes, Func<int, double, bool> up, Func<string, int, double> probe)
        : base(nodes, up)
    {
        _suspectUntil = new double[nodes.Count];
        _probe = probe;
    }

    public override string Name => "latency_aware";

    public override int Choose(RouteRequest request, double nowMs, IReadOnlySet<int> tried)
    {
        var rtt = Rtt(request.ClientRegion);
        var best = -1;
        var bestCost = double.MaxValue;
        foreach (var node in Nodes)
        {
            if (_suspectUntil[node.Index] > nowMs || !Eligible(node, request, nowMs, tried))
            {
                continue;
            }

            var wait = Math.Max(0, Load[node.Index] + 1 - node.Slots) * node.ServiceMs / node.Slots;
            var cost = (rtt[node.Index] + wait + node.ServiceMs) / Math.Max(node.Reputation, 0.05);
            if (cost < bestCost)
            {
                bestCost = cost;
                best = node.Index;
            }
        }

        return best;
    }

    public override void Observe(RouteRequest request, int node, double nowMs, double? latencyMs)
    {
        if (latencyMs is not { } observed)
        {
            _suspectUntil[node] = nowMs + SuspectMs;
            return;
        }

        // What the answer took beyond the node's service time: the path, and any queueing, which the estimate should carry too.
        var rtt = Rtt(request.ClientRegion);
        var path = Math.Max(0, observed - Nodes[node].ServiceMs);
        rtt[node] += Smoothing * (path - rtt[node]);
    }

    private double[] Rtt(string region)
    {
        if (!_rtt.TryGetValue(region, out var rtt))
        {
            _rtt[region] = rtt = [.. Nodes.Select(n => _probe(region, n.Index))];
        }

        return rtt;
    }
}
