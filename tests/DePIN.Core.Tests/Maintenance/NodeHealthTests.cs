using DePIN.Core.Maintenance;

namespace DePIN.Core.Tests.Maintenance;

public sealed class NodeHealthTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly NodeHealthOptions Options = NodeHealthOptions.Default with { Detector = new NoveltyOptions(Warmup: 100, Rest: 10) };

    private static HealthSample Reading(int minute, double gpu, double temperature, double loss = 0.001, double latency = 40) =>
        new(T0.AddMinutes(minute), 0.5, 0.5, 1e6, 1e6, 1e6, 1e6, 0.4, gpu, temperature, 8e9, 100 + (200 * gpu), loss, latency);

    private static double Feature(float[] features, string name) => features[Array.IndexOf(NodeHealth.FeatureNames, name)];

    [Fact]
    public void The_feature_names_match_the_constant_the_model_schema_uses() =>
        Assert.Equal(NodeHealth.FeatureCount, NodeHealth.FeatureNames.Length);

    [Fact]
    public void Heat_the_load_explains_is_not_evidence_and_heat_it_does_not_explain_is()
    {
        var health = new NodeHealth(Options);
        var minute = 0;
        // A day of jobs coming and going: hot when busy, cool when idle, always on the same line.
        for (; minute < 24 * 60; minute++)
        {
            var gpu = minute / 90 % 2 == 0 ? 0.9 : 0.05;
            health.Observe(Reading(minute, gpu, 40 + (40 * gpu)));
        }

        Assert.InRange(Feature(health.Features(T0.AddMinutes(minute)), "unexplained_heat_c"), -1.5, 1.5);

        // The same load, 12 °C hotter.
        for (var end = minute + 30; minute < end; minute++)
        {
            health.Observe(Reading(minute, 0.9, 40 + 36 + 12));
        }

        Assert.InRange(Feature(health.Features(T0.AddMinutes(minute)), "unexplained_heat_c"), 8, 13);
    }

    [Fact]
    public void Faults_count_and_fade_with_the_half_life()
    {
        var health = new NodeHealth(Options);
        health.Fault(FaultKind.GpuXid, T0);
        health.Fault(FaultKind.GpuXid, T0);
        Assert.Equal(2.0, Feature(health.Features(T0), "faults_GpuXid"), 6);
        Assert.Equal(1.0, Feature(health.Features(T0 + Options.EvidenceHalfLife), "faults_GpuXid"), 6);
        Assert.Equal(0.0, Feature(health.Features(T0), "faults_DiskError"));
    }

    [Fact]
    public void A_short_network_blip_moves_the_recent_loss_more_than_the_sustained_one()
    {
        var health = new NodeHealth(Options);
        for (var minute = 0; minute < 600; minute++)
        {
            health.Observe(Reading(minute, 0.5, 60, loss: minute >= 590 ? 0.05 : 0.001));
        }

        var features = health.Features(T0.AddMinutes(600));
        Assert.True(Feature(features, "packet_loss") > 0.04, "the 5-minute average sees the blip");
        Assert.True(Feature(features, "packet_loss_sustained") < 0.01, "the hour's average barely does");
    }

    [Fact]
    public void The_rule_is_quiet_on_a_healthy_node_and_names_the_evidence_on_a_failing_one()
    {
        var rule = new RiskRule();
        var healthy = new float[NodeHealth.FeatureCount];
        healthy[Array.IndexOf(NodeHealth.FeatureNames, "latency_ratio")] = 1;
        healthy[Array.IndexOf(NodeHealth.FeatureNames, "latency_ratio_sustained")] = 1;
        var calm = rule.Assess(healthy);
        Assert.Equal(0.0, calm.Risk, 9);
        Assert.Equal("no evidence", calm.Reason);

        var failing = (float[])healthy.Clone();
        failing[Array.IndexOf(NodeHealth.FeatureNames, "faults_GpuEcc")] = 4;
        failing[Array.IndexOf(NodeHealth.FeatureNames, "unexplained_heat_c")] = 15;
        var assessment = rule.Assess(failing);
        Assert.True(assessment.Risk > 0.95, $"risk {assessment.Risk}");
        Assert.Equal(RiskRule.Source, assessment.Source);
        Assert.StartsWith("faults_GpuEcc=4", assessment.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, 0.95, 0, null, true)]
    [InlineData(false, 0.5, 0, null, false)]
    [InlineData(true, 0.5, 60, null, true)]   // not yet below the release line
    [InlineData(true, 0.1, 10, null, true)]   // below it, not for long enough
    [InlineData(true, 0.1, 30, null, false)]
    [InlineData(false, 0.0, 0, true, true)]   // an operator holds it drained
    [InlineData(true, 0.99, 0, false, false)] // an operator keeps it in service
    public void The_drain_policy_has_hysteresis_and_operators_override_it(bool draining, double risk, int lowMinutes, bool? held, bool drain) =>
        Assert.Equal(drain, DrainPolicy.Default.ShouldDrain(draining, risk, TimeSpan.FromMinutes(lowMinutes), held));
}
