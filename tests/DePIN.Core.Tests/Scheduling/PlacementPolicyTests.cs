using DePIN.Core.Scheduling;

namespace DePIN.Core.Tests.Scheduling;

public sealed class PlacementPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 20, 9, 0, 0, TimeSpan.Zero);
    private static readonly Resources OneGpu = new(4, 16L << 30, 1);

    [Fact]
    public void A_gang_is_placed_whole_or_not_at_all()
    {
        var nodes = new[] { Node("a", gpus: 2), Node("b", gpus: 1) };

        var fits = new FirstFitPolicy().Place(Request(replicas: 3), nodes, Now);
        var tooBig = new FirstFitPolicy().Place(Request(replicas: 4), nodes, Now);

        Assert.Equal(["a", "a", "b"], fits.Nodes);
        Assert.False(tooBig.Placed);
        Assert.Empty(tooBig.Nodes);
        Assert.Equal(Gang.NoCapacity, tooBig.Reason);
    }

    [Fact]
    public void Redundant_replicas_go_to_distinct_nodes()
    {
        var nodes = new[] { Node("a", gpus: 8), Node("b", gpus: 8), Node("c", gpus: 8) };

        var decision = new FirstFitPolicy().Place(Request(replicas: 3) with { DistinctNodes = true }, nodes, Now);

        Assert.Equal(["a", "b", "c"], decision.Nodes);
    }

    [Fact]
    public void Allocated_capacity_is_not_offered_again()
    {
        var busy = Node("busy", gpus: 4);
        busy.Allocated = OneGpu * 4;

        var decision = new FirstFitPolicy().Place(Request(replicas: 1), [busy, Node("idle", gpus: 1)], Now);

        Assert.Equal(["idle"], decision.Nodes);
    }

    [Fact]
    public void Least_loaded_spreads_onto_the_emptiest_node()
    {
        var half = Node("half", gpus: 4);
        half.Allocated = OneGpu * 2;

        var decision = new LeastLoadedPolicy().Place(Request(replicas: 1), [half, Node("empty", gpus: 4)], Now);

        Assert.Equal(["empty"], decision.Nodes);
    }

    [Fact]
    public void Random_is_reproducible_for_a_seed_and_only_picks_feasible_nodes()
    {
        var nodes = Enumerable.Range(0, 50).Select(i => Node($"n{i}", gpus: 1, region: i % 2 == 0 ? "eu-west" : "us-east")).ToArray();
        var request = Request(replicas: 5) with { Constraints = PlacementConstraints.None with { Regions = ["eu-west"] } };

        var first = new RandomPolicy(42).Place(request, nodes, Now);
        var second = new RandomPolicy(42).Place(request, nodes, Now);

        Assert.Equal(first.Nodes, second.Nodes);
        Assert.All(first.Nodes, id => Assert.Equal(0, int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture) % 2));
    }

    [Fact]
    public void Predictive_prefers_the_node_likely_to_stay_up()
    {
        var flaky = Node("flaky", gpus: 1, history: (1, 20));
        var steady = Node("steady", gpus: 1, history: (72, 4));

        var decision = Predictive().Place(Request(replicas: 1, hours: 2), [flaky, steady], Now);

        Assert.Equal(["steady"], decision.Nodes);
        Assert.InRange(decision.SuccessProbability!.Value, 0.9, 1);
    }

    [Fact]
    public void Predictive_keeps_a_gang_on_one_machine_rather_than_spread_it_over_several()
    {
        var nodes = Enumerable.Range(0, 4).Select(i => Node($"small{i}", gpus: 1, history: (24, 4)))
            .Append(Node("big", gpus: 4, history: (24, 4)))
            .ToArray();

        var decision = Predictive().Place(Request(replicas: 4, hours: 4), nodes, Now);

        Assert.Equal(["big", "big", "big", "big"], decision.Nodes);
    }

    [Fact]
    public void Predictive_keeps_a_gang_in_one_region_when_that_costs_little_and_spreads_it_when_it_costs_much()
    {
        // The two steadiest nodes are in different regions; eu-west also has a second node almost as steady.
        NodeCandidate[] close = [
            Node("west-a", gpus: 1, history: (72, 4)),
            Node("east-a", gpus: 1, region: "eu-central", history: (80, 4)),
            Node("west-b", gpus: 1, history: (70, 4)),
        ];
        // Here eu-west's second node is flaky, so keeping the gang in one region would cost most of its chance.
        NodeCandidate[] far = [
            Node("west-a", gpus: 1, history: (72, 4)),
            Node("east-a", gpus: 1, region: "eu-central", history: (80, 4)),
            Node("west-b", gpus: 1, history: (1, 20)),
        ];

        var kept = Predictive().Place(Request(replicas: 2, hours: 3), close, Now);
        var spread = Predictive().Place(Request(replicas: 2, hours: 3), far, Now);

        Assert.Equal(["west-a", "west-b"], kept.Nodes.Order(StringComparer.Ordinal));
        Assert.Equal(["east-a", "west-a"], spread.Nodes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void With_a_bar_a_gang_waits_for_better_nodes_on_a_busy_fleet_and_not_on_an_idle_one_nor_by_default()
    {
        var flaky = Enumerable.Range(0, 4).Select(i => Node($"flaky{i}", gpus: 1, history: (1, 20))).ToArray();
        var request = Request(replicas: 4, hours: 3);
        var barred = PredictiveOptions.Default with { MinGangProbability = 0.9 };

        var busy = Predictive(barred).Place(request with { FleetLoad = 0.97 }, flaky, Now);
        var idle = Predictive(barred).Place(request with { FleetLoad = 0.3 }, flaky, Now);
        var waitedLong = Predictive(barred).Place(request with { FleetLoad = 0.97, Waited = TimeSpan.FromHours(12) }, flaky, Now);
        var byDefault = Predictive().Place(request with { FleetLoad = 0.97 }, flaky, Now);

        Assert.False(busy.Placed);
        Assert.Contains("Waiting for nodes likely to stay up", busy.Reason, StringComparison.Ordinal);
        Assert.True(idle.Placed);
        Assert.True(waitedLong.Placed);
        Assert.True(byDefault.Placed, byDefault.Reason);
    }

    [Fact]
    public void Constraints_filter_by_region_distance_labels_and_video_memory()
    {
        var paris = Node("paris", gpus: 1, latitude: 48.86, longitude: 2.35, labels: ["cuda12"]);
        var berlin = Node("berlin", gpus: 1, latitude: 52.52, longitude: 13.40);
        var tokyo = Node("tokyo", gpus: 1, region: "ap-northeast", latitude: 35.68, longitude: 139.69, labels: ["cuda12"]);
        var near = new GeoPoint(48.85, 2.29);
        var request = Request(replicas: 1);

        Assert.False(PlacementFilter.Eligible(request with { Constraints = PlacementConstraints.None with { Regions = ["eu-west"] } }, tokyo));
        Assert.True(PlacementFilter.Eligible(request with { Constraints = PlacementConstraints.None with { Near = near, MaxDistanceKm = 100 } }, paris));
        Assert.False(PlacementFilter.Eligible(request with { Constraints = PlacementConstraints.None with { Near = near, MaxDistanceKm = 100 } }, berlin));
        Assert.False(PlacementFilter.Eligible(request with { Constraints = PlacementConstraints.None with { Near = near, MaxRoundTripMs = 20 } }, tokyo));
        Assert.False(PlacementFilter.Eligible(request with { Constraints = PlacementConstraints.None with { Labels = ["cuda12"] } }, berlin));
        Assert.False(PlacementFilter.Eligible(request with { MinGpuVramBytes = 80L << 30 }, paris));
    }

    [Fact]
    public void A_placement_that_can_never_exist_is_named_as_such()
    {
        var nodes = new[] { Node("a", gpus: 2), Node("b", gpus: 2), Node("down", gpus: 2) };

        Assert.Null(PlacementFilter.Impossible(Request(replicas: 6), nodes));
        var tooMany = PlacementFilter.Impossible(Request(replicas: 7), nodes);
        var tooManyDistinct = PlacementFilter.Impossible(Request(replicas: 4) with { DistinctNodes = true }, nodes);
        var tooBig = PlacementFilter.Impossible(Request(replicas: 1) with { PerReplica = OneGpu with { Gpus = 3 } }, nodes);

        Assert.Equal("replicas", tooMany?.Field);
        Assert.Contains("at most 6", tooMany?.Reason, StringComparison.Ordinal);
        Assert.Contains("at most 3", tooManyDistinct?.Reason, StringComparison.Ordinal);
        Assert.Equal("resources", tooBig?.Field);
        Assert.Contains("No registered node", tooBig?.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Great_circle_distances_match_known_city_pairs()
    {
        Assert.InRange(Geo.DistanceKm(48.8566, 2.3522, 51.5074, -0.1278), 340, 345); // Paris–London
        Assert.InRange(Geo.DistanceKm(40.7128, -74.0060, 35.6762, 139.6503), 10_830, 10_860); // New York–Tokyo
    }

    private static PredictivePolicy Predictive(PredictiveOptions? options = null) => new(new AvailabilityPredictor(AvailabilityPrior.Default), options);

    private static PlacementRequest Request(int replicas, double hours = 1) =>
        new("job", OneGpu, 0, replicas, TimeSpan.FromHours(hours), PlacementConstraints.None);

    private static NodeCandidate Node(
        string id, int gpus, string region = "eu-west", double latitude = 50, double longitude = 5,
        string[]? labels = null, (double SessionHours, int Sessions)? history = null)
    {
        var availability = new NodeAvailability();
        var (sessionHours, sessions) = history ?? (24, 0);
        var t = Now.AddHours(-1 - (sessions * (sessionHours + 0.5)));
        for (var i = 0; i < sessions; i++)
        {
            availability.CameUp(t);
            t = t.AddHours(sessionHours);
            availability.WentDown(t);
            t = t.AddHours(0.5);
        }

        availability.CameUp(Now.AddHours(-1));
        return new NodeCandidate
        {
            NodeId = id,
            Region = region,
            Latitude = latitude,
            Longitude = longitude,
            Capacity = new Resources(8 * gpus, (32L << 30) * gpus, gpus),
            GpuVramBytes = 24L << 30,
            Labels = new HashSet<string>(labels ?? []),
            Availability = availability,
        };
    }
}
