using DePIN.Abstractions.Telemetry;
using DePIN.Core.Telemetry;

namespace DePIN.Grains.Nodes;

/// <summary>Folds samples into a node's rolling summary: time-weighted moving averages over a window.</summary>
public static class TelemetrySummarizer
{
    public static TelemetrySummary Add(TelemetrySummary summary, IEnumerable<TelemetrySample> samples, TimeSpan window)
    {
        foreach (var sample in samples)
        {
            if (summary.LastSampleAt is { } last && sample.At <= last)
            {
                continue; // an older sample says nothing new about recent load
            }

            var n = summary.Samples;
            var weight = summary.LastSampleAt is { } previous ? Ewma.Weight(sample.At - previous, window) : 1;
            double Next(double average, double value) => Ewma.Next(average, value, n, weight);

            var gpus = sample.Gpus;
            summary = new TelemetrySummary(
                Samples: n + 1,
                LastSampleAt: sample.At,
                CpuUtilization: Next(summary.CpuUtilization, sample.CpuUtilization),
                MemoryUtilization: Next(summary.MemoryUtilization, Ratio(sample.MemoryUsedBytes, sample.MemoryTotalBytes)),
                NetRxBytesPerSecond: Next(summary.NetRxBytesPerSecond, sample.NetRxBytesPerSecond),
                NetTxBytesPerSecond: Next(summary.NetTxBytesPerSecond, sample.NetTxBytesPerSecond),
                DiskReadBytesPerSecond: Next(summary.DiskReadBytesPerSecond, sample.DiskReadBytesPerSecond),
                DiskWriteBytesPerSecond: Next(summary.DiskWriteBytesPerSecond, sample.DiskWriteBytesPerSecond),
                DiskUtilization: Next(summary.DiskUtilization, Ratio(sample.DiskUsedBytes, sample.DiskTotalBytes)),
                GpuCount: gpus.Length,
                GpuUtilization: Next(summary.GpuUtilization, gpus.Length == 0 ? 0 : gpus.Average(g => g.Utilization)),
                GpuMaxTemperatureC: gpus.Length == 0 ? 0 : gpus.Max(g => g.TemperatureC));
        }

        return summary;
    }

    private static double Ratio(long part, long whole) => whole <= 0 ? 0 : (double)part / whole;
}
