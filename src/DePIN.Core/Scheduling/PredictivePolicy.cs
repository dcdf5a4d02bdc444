using System.Globalization;
using System.Runtime.InteropServices;

namespace DePIN.Core.Scheduling;

/// <summary>Tuning of <see cref="PredictivePolicy"/>.</summary>
/// <param name="MinGangProbability">On a full fleet, a gang less likely than this to stay whole waits for better nodes…
/// Zero by default: with passes every second, as production runs them, waiting cost more completion time than the
/// interruptions it avoided at every load <c>schedule-sim</c> measured (docs/benchmarks.md).</param>
/// <param name="Patience">…but the bar falls linearly to zero over this much waiting, or…</param>
/// <param name="PatiencePerHour">…this many times the job's remaining duration when that is longer, so nothing starves.</param>
/// <param name="LoadFloor">Below this fleet load the bar is zero: with capacity to spare a lost node costs little.</param>
/// <param name="LoadCeiling">From this fleet load up the bar is whole: wasted work is what a busy fleet cannot afford.</param>
/// <param name="ReputationWeight">How much reputation (0 to 1) lowers a node's risk.</param>
/// <param name="LoadWeight">How much measured utilisation (0 to 1) raises it.</param>
/// <param name="OneRegionShare">A gang that would span regions stays in one when that keeps at least this share of its
/// predicted success probability (1 never trades, 0 always keeps a gang in one region when one can hold it).</param>
public sealed record PredictiveOptions(
    double MinGangProbability = 0,
    TimeSpan Patience = default,
    double PatiencePerHour = 4,
    double LoadFloor = 0.6,
    double LoadCeiling = 0.95,
    double ReputationWeight = 0.02,
    double LoadWeight = 0.005,
    double OneRegionShare = 0.9)
{
    public static PredictiveOptions Default { get; } = new(Patience: TimeSpan.FromHours(1));
}

/// <summary>
/// Places a gang where it is most likely to stay whole for the job's duration; with a bar set, it holds the gang back
/// while the fleet is busy and only risky nodes are free.
/// </summary>
/// <remarks>
/// Each feasible node gets the probability p that it stays up for the job's remaining duration
/// (<see cref="AvailabilityPredictor"/>). Nodes rank by risk per replica slot, −ln p divided by the replicas the node
/// can take, so a node that holds the whole gang adds its risk once; reputation and load shade the order. The gang's
/// success probability is the product of p over its distinct nodes. That product treats nodes as independent, and
/// they are not: an outage takes down many nodes of a region at once, and a gang fails when any one of its regions
/// does, so a gang spread over four regions meets four regions' outages where a gang kept in one meets one. A gang
/// that would span regions therefore stays in the best single region that can hold it when that costs little
/// predicted probability (<see cref="PredictiveOptions.OneRegionShare"/>); its replicas, which exchange gradients,
/// also gain from the shorter round trips. When the gang's probability falls below a bar the job waits: the bar is
/// <see cref="PredictiveOptions.MinGangProbability"/> on a full fleet (zero by default) and zero on an idle one, and
/// it falls as the job waits.
/// </remarks>
/// <param name="forecast">Each node's chance of staying up: the <see cref="AvailabilityPredictor"/> in production.</param>
/// <param name="random">Where a large fleet's sample of feasible nodes starts (<see cref="Gang.Feasible"/>); a seeded one makes a simulation repeatable.</param>
/// <param name="name">The policy's name; another than <c>predictive</c> when it runs with another forecast.</param>
public sealed class PredictivePolicy(ISurvivalForecast forecast, PredictiveOptions? options = null, Random? random = null, string name = "predictive")
    : IPlacementPolicy
{
    private readonly PredictiveOptions _options = options ?? PredictiveOptions.Default;

    public string Name => name;

    /// <summary>The predictor the policy ranks by, when it is one (a simulation refits and scores it).</summary>
    public AvailabilityPredictor? Predictor => forecast as AvailabilityPredictor;

    public PlacementDecision Place(PlacementRequest request, IReadOnlyList<NodeCandidate> candidates, DateTimeOffset now)
    {
        var order = Gang.Feasible(request, candidates, random);
        var survival = new double[order.Count];
        var risks = new double[order.Count];
        for (var i = 0; i < order.Count; i++)
        {
            var node = order[i];
            var p = forecast.ProbabilityUp(node, now, request.Duration);
            survival[i] = p;
            var slots = Math.Min(request.Replicas, request.DistinctNodes ? 1 : node.Free.CopiesOf(request.PerReplica));
            risks[i] = (-Math.Log(Math.Max(p, 1e-12)) / slots)
                - (_options.ReputationWeight * node.Reputation) + (_options.LoadWeight * node.Utilization);
        }

        var lowest = Lowest(risks, Enumerable.Range(0, order.Count).ToArray(), request.Replicas);
        if (Filled(request, order, survival, lowest) is not { } best)
        {
            return PlacementDecision.Wait(Gang.NoCapacity);
        }

        var (nodes, members, gang) = best;
        if (request.Replicas > 1 && SpansRegions(order, members) && OneRegion(request, order, risks, survival) is { } local
            && local.Probability >= _options.OneRegionShare * gang)
        {
            (nodes, _, gang) = local;
        }

        var bar = Bar(request);
        if (gang < bar)
        {
            return new PlacementDecision([], gang, string.Create(CultureInfo.InvariantCulture,
                $"Waiting for nodes likely to stay up: the best gang now would stay whole with p={gang:0.###}, below {bar:0.###} at fleet load {request.FleetLoad:0.##}."));
        }

        return new PlacementDecision(nodes, gang, null);
    }

    /// <summary>The success probability a gang needs to be placed now.</summary>
    public double Bar(PlacementRequest request)
    {
        var o = _options;
        var busy = o.LoadCeiling <= o.LoadFloor ? 1 : Math.Clamp((request.FleetLoad - o.LoadFloor) / (o.LoadCeiling - o.LoadFloor), 0, 1);
        var patience = Math.Max(o.Patience.TotalHours, o.PatiencePerHour * request.Duration.TotalHours);
        var waited = patience <= 0 ? 1 : Math.Clamp(request.Waited.TotalHours / patience, 0, 1);
        return o.MinGangProbability * busy * (1 - waited);
    }

    /// <summary>
    /// The gang a greedy fill makes from <paramref name="ranked"/> (indices into <paramref name="order"/>, lowest risk
    /// first): one node id per replica, the distinct nodes as indices into <paramref name="order"/>, and the gang's
    /// success probability, the product over those nodes; null when they cannot hold it.
    /// </summary>
    private (string[] Nodes, int[] Members, double Probability)? Filled(PlacementRequest request, List<NodeCandidate> order, double[] survival, int[] ranked)
    {
        if (Gang.Fill(request, ranked.Select(i => order[i])) is not { } nodes)
        {
            return null;
        }

        var used = new HashSet<string>(nodes, StringComparer.Ordinal);
        int[] members = [.. ranked.Where(i => used.Contains(order[i].NodeId))];
        return (nodes, members, members.Aggregate(1.0, (p, i) => p * survival[i]));
    }

    /// <summary>Whether the gang's <paramref name="members"/> (indices into <paramref name="order"/>) lie in more than one region.</summary>
    private static bool SpansRegions(List<NodeCandidate> order, int[] members) =>
        members.Select(i => order[i].Region).Distinct(StringComparer.Ordinal).Skip(1).Any();

    /// <summary>The most probable gang that fits in a single region, if any region can hold one.</summary>
    private (string[] Nodes, int[] Members, double Probability)? OneRegion(
        PlacementRequest request, List<NodeCandidate> order, double[] risks, double[] survival)
    {
        var regions = new Dictionary<string, (List<int> Members, int Slots)>(StringComparer.Ordinal);
        for (var i = 0; i < order.Count; i++)
        {
            ref var region = ref CollectionsMarshal.GetValueRefOrAddDefault(regions, order[i].Region, out var exists);
            if (!exists)
            {
                region = ([], 0);
            }

            region.Members.Add(i);
            region.Slots += request.DistinctNodes ? 1 : order[i].Free.CopiesOf(request.PerReplica);
        }

        (string[] Nodes, int[] Members, double Probability)? best = null;
        foreach (var (members, slots) in regions.Values)
        {
            if (slots < request.Replicas || Filled(request, order, survival, Lowest(risks, [.. members], request.Replicas)) is not { } gang)
            {
                continue;
            }

            if (best is null || gang.Probability > best.Value.Probability)
            {
                best = gang;
            }
        }

        return best;
    }

    /// <summary>
    /// The nodes a greedy fill can use, lowest risk first: every feasible node takes at least one replica, so the
    /// fill never reaches past the <paramref name="count"/> lowest. Works on <paramref name="members"/>, indices into
    /// <paramref name="risks"/>, and returns such indices. A bounded heap finds them in O(n log count) instead of
    /// sorting every scored node. Ties go to the lower index.
    /// </summary>
    private static int[] Lowest(double[] risks, int[] members, int count)
    {
        if (members.Length <= count)
        {
            var all = members.Select(i => (risks[i], i)).ToArray();
            Array.Sort(all, ByRisk);
            return [.. all.Select(k => k.Item2)];
        }

        // A max-heap of the best `count` so far: its top is the worst of them.
        var best = new PriorityQueue<int, (double Risk, int Index)>(count, Comparer<(double Risk, int Index)>.Create((a, b) => ByRisk.Compare(b, a)));
        foreach (var i in members)
        {
            if (best.Count < count)
            {
                best.Enqueue(i, (risks[i], i));
            }
            else if (best.TryPeek(out _, out var worst) && ByRisk.Compare((risks[i], i), worst) < 0)
            {
                best.DequeueEnqueue(i, (risks[i], i));
            }
        }

        var chosen = new (double Risk, int Index)[best.Count];
        for (var k = 0; best.TryDequeue(out _, out var key); k++)
        {
            chosen[k] = key;
        }

        Array.Sort(chosen, ByRisk);
        return [.. chosen.Select(k => k.Index)];
    }

    private static readonly Comparer<(double Risk, int Index)> ByRisk = Comparer<(double Risk, int Index)>.Create((a, b) =>
        a.Risk != b.Risk ? a.Risk.CompareTo(b.Risk) : a.Index.CompareTo(b.Index));
}
