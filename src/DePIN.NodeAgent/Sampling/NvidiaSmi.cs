using System.Diagnostics;
using System.Globalization;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;

namespace DePIN.NodeAgent.Sampling;

/// <summary>NVIDIA GPUs through <c>nvidia-smi</c>, when it is installed.</summary>
public static class NvidiaSmi
{
    public const string Query = "index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw";

    /// <summary>One GPU as nvidia-smi reports it.</summary>
    public sealed record Reading(GpuInfo Info, GpuSample Sample);

    /// <summary>Parses <c>nvidia-smi --query-gpu=<see cref="Query"/> --format=csv,noheader,nounits</c>.</summary>
    public static IReadOnlyList<Reading> Parse(string csv)
    {
        var readings = new List<Reading>();
        foreach (var line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = line.Split(',', StringSplitOptions.TrimEntries);
            if (f.Length < 7)
            {
                throw new FormatException($"nvidia-smi line has {f.Length} fields, expected 7: '{line}'");
            }

            const long MiB = 1024 * 1024;
            var index = int.Parse(f[0], CultureInfo.InvariantCulture);
            readings.Add(new Reading(
                new GpuInfo(f[1], (long)(Number(f[4]) * MiB)),
                new GpuSample(index, Number(f[2]) / 100, (long)(Number(f[3]) * MiB), Number(f[5]), Number(f[6]))));
        }

        return readings;
    }

    /// <summary>Runs nvidia-smi; an empty list when it is missing or fails.</summary>
    public static IReadOnlyList<Reading> Read()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", $"--query-gpu={Query} --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return [];
            }

            var output = process.StandardOutput.ReadToEnd();
            return process.WaitForExit(5000) && process.ExitCode == 0 ? Parse(output) : [];
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return []; // not installed
        }
    }

    // "[N/A]" (e.g. power on some boards) reads as 0.
    private static double Number(string field) =>
        double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : 0;
}
