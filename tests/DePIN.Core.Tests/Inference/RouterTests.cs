using DePIN.Core.Inference;
using DePIN.Simulation.Inference;

namespace DePIN.Core.Tests.Inference;

public sealed class RouterTests
{
    // Dublin, Frankfurt, Frankfurt (slow), Virginia.
    private static readonly ServingNode[] Nodes =
    [
        new(0, "eu-west", 53.35, -6.26, Slots: 1, ServiceMs: 20, Reputation: 1),
        new(1, "eu-central", 50.11, 8.68, Slots: 1, ServiceMs: 20, Reputation: 1),
        new(2, "eu-central", 50.11, 8.68, Slots: 1, ServiceMs: 200, Reputation: 1),
        new(3, "us-east", 38.90, -77.04, Slots: 4, ServiceMs: 20, Reputation: 1),
    ];

    private static readonly RouteRequest FromParis = new("eu-central", 48.85, 2.35, Residency: null);

    private static double Probe(string region, int node) => node switch { 0 => 15, 1 or 2 => 10, _ => 80 };

    [Fact]
    public void Latency_aware_picks_the_quickest_answer_then_spreads_as_load_builds()
    {
        var router = new LatencyAwareRouter(Nodes, (_, _) => true, Probe);

        Assert.Equal(1, router.Choose(FromParis, 0, new HashSet<int>()));
        router.InFlight(1, +1); // node 1's one slot is busy: Dublin is now quicker than queueing in Frankfurt
        Assert.Equal(0, router.Choose(FromParis, 0, new HashSet<int>()));
    }

    [Fact]
    public void A_node_that_timed_out_is_avoided_before_the_directory_notices_then_tried_again()
    {
        var router = new LatencyAwareRouter(Nodes, (_, _) => true, Probe);

        router.Observe(FromParis, 1, 1000, latencyMs: null);

        Assert.Equal(0, router.Choose(FromParis, 1000, new HashSet<int>()));
        Assert.Equal(1, router.Choose(FromParis, 1000 + LatencyAwareRouter.SuspectMs + 1, new HashSet<int>()));
    }

    [Fact]
    public void Observed_latencies_correct_a_wrong_probe()
    {
        var router = new LatencyAwareRouter(Nodes, (_, _) => true, (region, node) => node == 3 ? 1 : Probe(region, node));
        Assert.Equal(3, router.Choose(FromParis, 0, new HashSet<int>())); // the probe said Virginia was 1 ms away

        for (var i = 0; i < 20; i++)
        {
            router.Observe(FromParis, 3, i, latencyMs: 100);
        }

        Assert.Equal(1, router.Choose(FromParis, 20, new HashSet<int>()));
    }

    [Fact]
    public void Every_router_keeps_residency_and_skips_nodes_tried_or_down()
    {
        var usOnly = FromParis with { Residency = "us-east" };
        IInferenceRouter[] routers =
        [
            new LatencyAwareRouter(Nodes, (n, _) => n != 0, Probe),
            new RandomRouter(Nodes, (n, _) => n != 0, seed: 1),
            new NearestRegionRouter(Nodes, (n, _) => n != 0, seed: 1),
        ];

        foreach (var router in routers)
        {
            Assert.Equal(3, router.Choose(usOnly, 0, new HashSet<int>()));
            Assert.Equal(-1, router.Choose(usOnly, 0, new HashSet<int> { 3 }));
            for (var i = 0; i < 20; i++)
            {
                Assert.NotEqual(0, router.Choose(FromParis, 0, new HashSet<int> { 1 }));
            }
        }
    }

    [Fact]
    public void The_simulation_is_deterministic_and_failures_cost_the_baselines_retries()
    {
        var settings = new EdgeSettings(Nodes: 60, Requests: 5000, FailingShare: 0.2, Seed: 3);
        var a = new EdgeSimulation(settings);
        var b = new EdgeSimulation(settings);

        var first = a.Run(new RandomRouter(a.Nodes, a.DirectorySaysUp, 1));
        Assert.Equal(first, b.Run(new RandomRouter(b.Nodes, b.DirectorySaysUp, 1)));
        Assert.True(first.Retries > 0);
        var aware = a.Run(new LatencyAwareRouter(a.Nodes, a.DirectorySaysUp, a.Probe(1)));
        Assert.True(aware.P50Ms < first.P50Ms, $"latency-aware p50 {aware.P50Ms} against random {first.P50Ms}");
    }
}
