using DePIN.Core.Inference;
using DePIN.Core.Scheduling;

namespace DePIN.Simulation.Inference;

/// <summary>Settings of an edge-inference simulation.</summary>
/// <param name="Nodes">Serving nodes, spread over the regions.</param>
/// <param name="Requests">Requests, arriving as a Poisson process.</param>
/// <param name="Utilisation">Offered load as a share of the fleet's total serving capacity.</param>
/// <param name="FailingShare">Share of nodes that die at a random time during the run, without warning.</param>
/// <param name="ResidencyShare">Share of requests whose data must stay in the client's region.</param>
/// <param name="ProbeNoise">Log-normal sigma of the router's latency probes.</param>
public sealed record EdgeSettings(
    int Nodes = 500, int Requests = 100_000, double Utilisation = 0.1, double FailingShare = 0.1, double ResidencyShare = 0.2,
    double ProbeNoise = 0.3, int Seed = 1);

/// <summary>What a router achieved: latency percentiles of answered requests, and the share never answered.</summary>
public sealed record RouterOutcome(string Router, double P50Ms, double P99Ms, double MeanMs, double FailureRate, int Retries);

/// <summary>
/// A simulated geography for edge inference, the same for every router: nodes in the seven regions of the simulated
/// fleet (scattered a few hundred kilometres around each centre), each with serving slots and a service time; clients
/// around the same centres; round trips from great-circle distance over fibre plus last-mile delay and noise;
/// queueing at each node's slots. Some nodes die mid-run: a request sent to a dead node times out after
/// <see cref="TimeoutMs"/>, and the router may try another, up to <see cref="MaxAttempts"/> in all. The directory
/// notices a dead node <see cref="DirectoryDelayMs"/> after it dies. Deterministic for a seed.
/// </summary>
public sealed class EdgeSimulation
{
    public const double TimeoutMs = 1000;
    public const int MaxAttempts = 3;
    public const double DirectoryDelayMs = 30_000;

    private static readonly (string Region, double Latitude, double Longitude, double Clients)[] Regions =
    [
        ("eu-west", 53.35, -6.26, 0.15), ("eu-central", 50.11, 8.68, 0.2), ("us-east", 38.90, -77.04, 0.2), ("us-west", 37.77, -122.42, 0.15),
        ("ap-southeast", 1.35, 103.82, 0.1), ("ap-northeast", 35.68, 139.69, 0.12), ("sa-east", -23.55, -46.63, 0.08),
    ];

    private readonly EdgeSettings _settings;
    private readonly double[] _diesAt;
    private readonly List<(double At, RouteRequest Request, double LastMileMs, double ServiceDraw, double NoiseDraw)> _requests = [];

    public EdgeSimulation(EdgeSettings settings)
    {
        _settings = settings;
        var random = new Random(settings.Seed);
        Nodes = [.. Enumerable.Range(0, settings.Nodes).Select(i =>
        {
            var (region, latitude, longitude, _) = Regions[i % Regions.Length];
            var slots = 1 + random.Next(8);
            return new ServingNode(i, region, latitude + Scatter(random, 4), longitude + Scatter(random, 6), slots,
                ServiceMs: 20 + random.NextDouble() * 60, Reputation: random.NextDouble() < 0.05 ? 0.5 : 1);
        })];

        var capacityPerMs = Nodes.Sum(n => n.Slots / n.ServiceMs);
        var meanGapMs = 1 / (capacityPerMs * settings.Utilisation);
        DurationMs = meanGapMs * settings.Requests;
        _diesAt = [.. Nodes.Select(_ => random.NextDouble() < settings.FailingShare ? random.NextDouble() * DurationMs : double.PositiveInfinity)];

        var at = 0.0;
        for (var r = 0; r < settings.Requests; r++)
        {
            at += -Math.Log(1 - random.NextDouble()) * meanGapMs;
            var region = Pick(random);
            var latitude = region.Latitude + Scatter(random, 4);
            var longitude = region.Longitude + Scatter(random, 6);
            var request = new RouteRequest(region.Region, latitude, longitude, random.NextDouble() < settings.ResidencyShare ? region.Region : null);
            // The client's last mile: 2 to 12 ms on top of fibre over the great circle.
            _requests.Add((at, request, 2 + random.NextDouble() * 10, random.NextDouble(), Gaussian(random)));
        }
    }

    public IReadOnlyList<ServingNode> Nodes { get; }

    public double DurationMs { get; }

    /// <summary>Whether the directory lists the node as up at <paramref name="nowMs"/> (it learns of a death late).</summary>
    public bool DirectorySaysUp(int node, double nowMs) => nowMs < _diesAt[node] + DirectoryDelayMs;

    /// <summary>A latency probe from a client region's centre to a node: the true round trip with log-normal noise.</summary>
    public Func<string, int, double> Probe(int seed)
    {
        var random = new Random(seed);
        return (region, node) =>
        {
            var (_, latitude, longitude, _) = Regions.First(r => r.Region == region);
            var n = Nodes[node];
            return (Geo.RoundTripMs(Geo.DistanceKm(latitude, longitude, n.Latitude, n.Longitude)) + 7) * Math.Exp(_settings.ProbeNoise * Gaussian(random));
        };
    }

    /// <summary>Routes every request with <paramref name="router"/> and measures what clients saw.</summary>
    public RouterOutcome Run(IInferenceRouter router)
    {
        // Each node's slots: when each becomes free. Requests are served in arrival order.
        var free = Nodes.Select(n => new double[n.Slots]).ToArray();
        var latencies = new List<double>(_requests.Count);
        var pending = new PriorityQueue<(int Node, RouteRequest Request, double Latency), double>();
        int failed = 0, retries = 0;
        var tried = new HashSet<int>();
        foreach (var (arrival, request, lastMile, serviceDraw, noiseDraw) in _requests)
        {
            // Answers that came back by now are observed (in time order) before this request is routed.
            while (pending.TryPeek(out var done, out var when) && when <= arrival)
            {
                pending.Dequeue();
                router.InFlight(done.Node, -1);
                router.Observe(done.Request, done.Node, when, done.Latency);
            }

            tried.Clear();
            var now = arrival;
            var answered = false;
            for (var attempt = 0; attempt < MaxAttempts && !answered; attempt++)
            {
                var node = router.Choose(request, now, tried);
                if (node < 0)
                {
                    break;
                }

                retries += attempt > 0 ? 1 : 0;
                tried.Add(node);
                var n = Nodes[node];
                var rtt = Geo.RoundTripMs(Geo.DistanceKm(request.Latitude, request.Longitude, n.Latitude, n.Longitude)) + lastMile;
                var reach = now + rtt / 2;
                if (reach >= _diesAt[node])
                {
                    router.Observe(request, node, now + TimeoutMs, null);
                    now += TimeoutMs;
                    continue;
                }

                var slots = free[node];
                var slot = Array.IndexOf(slots, slots.Min());
                var service = -Math.Log(1 - serviceDraw * 0.999) * n.ServiceMs;
                var finish = Math.Max(reach, slots[slot]) + service;
                if (finish >= _diesAt[node])
                {
                    // It died holding the request.
                    slots[slot] = finish;
                    router.Observe(request, node, now + TimeoutMs, null);
                    now += TimeoutMs;
                    continue;
                }

                slots[slot] = finish;
                var answer = finish + rtt / 2 * Math.Exp(0.1 * noiseDraw);
                latencies.Add(answer - arrival);
                router.InFlight(node, +1);
                pending.Enqueue((node, request, answer - now), answer);
                answered = true;
            }

            failed += answered ? 0 : 1;
        }

        latencies.Sort();
        return new RouterOutcome(router.Name, Percentile(latencies, 0.5), Percentile(latencies, 0.99), latencies.Count == 0 ? 0 : latencies.Average(),
            (double)failed / _requests.Count, retries);
    }

    private static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static (string Region, double Latitude, double Longitude, double Clients) Pick(Random random)
    {
        var x = random.NextDouble() * Regions.Sum(r => r.Clients);
        foreach (var region in Regions)
        {
            if ((x -= region.Clients) <= 0)
            {
                return region;
            }
        }

        return Regions[^1];
    }

    private static double Scatter(Random random, double degrees) => (random.NextDouble() - 0.5) * degrees;

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
