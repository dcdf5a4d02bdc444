using DePIN.NodeAgent.Simulation;

namespace DePIN.NodeAgent.Tests;

public sealed class SimulatedHostTests
{
    [Fact]
    public void The_same_seed_and_index_give_the_same_machine_and_telemetry()
    {
        var at = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
        var a = new SimulatedHost(index: 3, seed: 42);
        var b = new SimulatedHost(index: 3, seed: 42);

        Assert.Equal(a.Capabilities, b.Capabilities);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(a.Sample(at.AddSeconds(5 * i)), b.Sample(at.AddSeconds(5 * i)), SampleComparer.Instance);
        }
    }

    [Fact]
    public void Simulated_samples_stay_within_the_physical_ranges_the_API_enforces()
    {
        var at = new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);
        foreach (var index in Enumerable.Range(0, 50))
        {
            var host = new SimulatedHost(index, seed: 7);
            for (var i = 0; i < 200; i++)
            {
                var s = host.Sample(at.AddMinutes(7 * i));
                Assert.InRange(s.CpuUtilization, 0, 1);
                Assert.InRange(s.MemoryUsedBytes, 0, s.MemoryTotalBytes);
                Assert.InRange(s.DiskUsedBytes, 0, s.DiskTotalBytes);
                Assert.True(s.NetRxBytesPerSecond >= 0 && s.NetTxBytesPerSecond >= 0);
                Assert.Equal(host.Capabilities.Gpus.Length, s.Gpus.Length);
                Assert.All(s.Gpus, g =>
                {
                    Assert.InRange(g.Utilization, 0, 1);
                    Assert.InRange(g.TemperatureC, -50, 150);
                });
            }
        }
    }

    private sealed class SampleComparer : IEqualityComparer<DePIN.Abstractions.Telemetry.TelemetrySample>
    {
        public static readonly SampleComparer Instance = new();

        public bool Equals(DePIN.Abstractions.Telemetry.TelemetrySample? x, DePIN.Abstractions.Telemetry.TelemetrySample? y) =>
            x is not null && y is not null && x with { Gpus = [] } == y with { Gpus = [] } && x.Gpus.SequenceEqual(y.Gpus);

        public int GetHashCode(DePIN.Abstractions.Telemetry.TelemetrySample obj) => obj.At.GetHashCode();
    }
}
