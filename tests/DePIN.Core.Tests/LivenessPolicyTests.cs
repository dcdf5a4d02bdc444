using DePIN.Core.Nodes;
using DePIN.Core.Telemetry;

namespace DePIN.Core.Tests;

public sealed class LivenessPolicyTests
{
    private static readonly DateTimeOffset Heard = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0, Liveness.Alive)]
    [InlineData(14.999, Liveness.Alive)]
    [InlineData(15, Liveness.Suspect)]
    [InlineData(29.999, Liveness.Suspect)]
    [InlineData(30, Liveness.Offline)]
    [InlineData(3600, Liveness.Offline)]
    public void Silence_is_judged_in_reporting_intervals(double silentSeconds, Liveness expected) =>
        Assert.Equal(expected, LivenessPolicy.Default.Evaluate(Heard, Heard.AddSeconds(silentSeconds)));

    [Fact]
    public void The_next_change_is_the_next_threshold()
    {
        var policy = new LivenessPolicy(TimeSpan.FromSeconds(10), 2, 5);

        Assert.Equal(Heard.AddSeconds(20), policy.NextChangeAt(Heard, Heard.AddSeconds(1)));
        Assert.Equal(Heard.AddSeconds(50), policy.NextChangeAt(Heard, Heard.AddSeconds(20)));
        Assert.Null(policy.NextChangeAt(Heard, Heard.AddSeconds(50)));
    }

    [Theory]
    [InlineData(0, 3, 6)]
    [InlineData(5, 0, 6)]
    [InlineData(5, 3, 3)]
    public void A_policy_that_cannot_work_is_refused(int intervalSeconds, int suspect, int offline) =>
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new LivenessPolicy(TimeSpan.FromSeconds(intervalSeconds), suspect, offline).Validated());

    [Fact]
    public void A_moving_average_weighs_samples_by_the_time_between_them()
    {
        var window = TimeSpan.FromMinutes(1);

        Assert.Equal(0.5, Ewma.Next(0, 0.5, count: 0, weight: 0.1)); // the first sample is taken as is
        Assert.Equal(0, Ewma.Weight(TimeSpan.Zero, window));
        Assert.Equal(1 - Math.Exp(-1), Ewma.Weight(window, window), 12);
        Assert.True(Ewma.Weight(TimeSpan.FromSeconds(5), window) < Ewma.Weight(TimeSpan.FromSeconds(30), window));
    }
}
