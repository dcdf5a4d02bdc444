using DePIN.Core.Maintenance;

namespace DePIN.Bench.Maintenance;

/// <summary>Settings of <c>failure-sim</c>.</summary>
/// <param name="MeanDaysToFailure">Mean time between failures of one node while it is up.</param>
/// <param name="Horizon">A prediction is right when the node fails within this long of it.</param>
public sealed record FailureSimSettings(int Nodes, int Days, int WarmupDays, int Seed, double MeanDaysToFailure, TimeSpan Horizon)
{
    public static readonly TimeSpan Step = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan RiskEvery = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan ExampleEvery = TimeSpan.FromMinutes(30);
}

/// <summary>How a simulated node fails.</summary>
public enum FailureKind
{
    /// <summary>The GPU runs ever hotter for its load, then ECC errors, then it dies.</summary>
    Thermal,

    /// <summary>Hardware errors (GPU Xid and ECC, or disk) come faster and faster.</summary>
    Errors,

    /// <summary>Its network degrades: packet loss climbs and latency spikes.</summary>
    Network,

    /// <summary>It dies with no warning at all.</summary>
    Sudden,
}

/// <summary>
/// A fleet of simulated GPU nodes sampled every minute, some of which fail: after hours of realistic precursors
/// (thermal creep, error bursts, network degradation) or without warning. Healthy nodes are not quiet either: load
/// comes and goes with their jobs, networks blip, kernels log warnings and the odd isolated GPU or disk error shows
/// up, so evidence must be weighed, not just noticed. Deterministic for a seed.
/// </summary>
public sealed class SimulatedHealthNode
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);
    private readonly Random _random;
    private readonly double _latencyBase;
    private readonly double _idleTemperature;
    private readonly double _meanDaysToFailure;
    private DateTimeOffset _blipEnds;
    private double _blipLoss;
    private double _blipLatency;

    public SimulatedHealthNode(int index, int seed, double meanDaysToFailure)
    {
        Index = index;
        _random = new Random(unchecked((seed * 1_000_003) + index)); // not HashCode: its seed changes per process
        _latencyBase = 15 + (_random.NextDouble() * 70);
        _idleTemperature = 35 + (_random.NextDouble() * 10);
        _meanDaysToFailure = meanDaysToFailure;
        PlanFailure(Epoch);
    }

    public static DateTimeOffset Start => Epoch;

    public int Index { get; }

    /// <summary>When the node will next fail, how, and when its precursors start.</summary>
    public DateTimeOffset FailsAt { get; private set; }

    public FailureKind Kind { get; private set; }

    public DateTimeOffset PrecursorsFrom { get; private set; }

    /// <summary>Down (failed, being repaired) until this time.</summary>
    public DateTimeOffset DownUntil { get; private set; } = DateTimeOffset.MinValue;

    public bool IsDown(DateTimeOffset now) => now < DownUntil;

    /// <summary>Fails the node if its time has come; returns true at the moment it does.</summary>
    public bool FailsNow(DateTimeOffset now)
    {
        if (now < FailsAt)
        {
            return false;
        }

        DownUntil = now + TimeSpan.FromHours(2 + (_random.NextDouble() * 10));
        PlanFailure(DownUntil);
        return true;
    }

    /// <summary>One minute of the node: its reading, and the fault events its agent reports.</summary>
    public HealthSample Sample(DateTimeOffset now, bool busy, List<FaultKind> faults)
    {
        var r = _random;
        var progress = now >= PrecursorsFrom && Kind != FailureKind.Sudden
            ? Math.Clamp((now - PrecursorsFrom) / (FailsAt - PrecursorsFrom), 0, 1)
            : 0.0;

        // Every sample draws the same random numbers whatever the load, so runs that differ only in which jobs a
        // node ran see the same failures and the same noise.
        var jitter = Normal(r);
        var gpu = busy ? Math.Clamp(0.85 + (jitter * 0.06), 0, 1) : 0.03 + (Math.Abs(jitter) * 0.02);
        var creep = Kind == FailureKind.Thermal ? 28 * progress * progress : 0;
        var temperature = _idleTemperature + (42 * gpu) + (Normal(r) * 1.5) + creep;

        // Benign network blips: a few a week, minutes long.
        if (now >= _blipEnds && r.NextDouble() < 1.0 / (3 * 24 * 60))
        {
            _blipEnds = now + TimeSpan.FromMinutes(5 + r.Next(25));
            (_blipLoss, _blipLatency) = (0.01 + (r.NextDouble() * 0.06), 1.5 + (r.NextDouble() * 2));
        }

        var blip = now < _blipEnds;
        var degrade = Kind == FailureKind.Network ? progress : 0;
        var loss = Math.Max(0, 0.001 + (Math.Abs(Normal(r)) * 0.001) + (blip ? _blipLoss : 0) + (0.09 * degrade * degrade));
        var latency = _latencyBase * (1 + (Math.Abs(Normal(r)) * 0.05)) * (blip ? _blipLatency : 1) * (1 + (3 * degrade)) *
            (degrade > 0.3 && r.NextDouble() < degrade * 0.3 ? 3 : 1);

        // Fault events: background noise every node has, and the precursors of a coming failure.
        Maybe(faults, FaultKind.Kernel, 1.0 / (24 * 60));
        Maybe(faults, FaultKind.ProcessCrash, 1.0 / (4 * 24 * 60));
        Maybe(faults, FaultKind.GpuXid, 1.0 / (15 * 24 * 60));
        Maybe(faults, FaultKind.DiskError, 1.0 / (20 * 24 * 60));
        if (Kind == FailureKind.Errors && progress > 0)
        {
            var perHour = 0.3 + (8 * progress * progress);
            Maybe(faults, Index % 2 == 0 ? FaultKind.GpuXid : FaultKind.DiskError, perHour / 60);
            Maybe(faults, Index % 2 == 0 ? FaultKind.GpuEcc : FaultKind.Kernel, perHour / 120);
        }

        if (Kind == FailureKind.Thermal && progress > 0.7)
        {
            Maybe(faults, FaultKind.GpuEcc, 2.0 / 60);
        }

        var cpu = Math.Clamp((busy ? 0.55 : 0.05) + (Normal(r) * 0.05), 0, 1);
        var memory = Math.Clamp((busy ? 0.7 : 0.2) + (Normal(r) * 0.02), 0, 1);
        var rx = Math.Max(0, (busy ? 4e7 : 1e5) * (1 + (Normal(r) * 0.2)));
        var tx = Math.Max(0, (busy ? 2e7 : 5e4) * (1 + (Normal(r) * 0.2)));
        var read = Math.Max(0, (busy ? 1e8 : 1e5) * (1 + (Normal(r) * 0.3)));
        var write = Math.Max(0, (busy ? 3e7 : 1e5) * (1 + (Normal(r) * 0.3)));
        var vram = (busy ? 20e9 : 1e9) * (1 + (jitter * 0.02));
        var power = 60 + (290 * gpu);
        return new HealthSample(now, cpu, memory, rx, tx, read, write, 0.4, gpu, temperature, vram, power, loss, latency);
    }

    private void Maybe(List<FaultKind> faults, FaultKind kind, double probability)
    {
        if (_random.NextDouble() < probability)
        {
            faults.Add(kind);
        }
    }

    private void PlanFailure(DateTimeOffset from)
    {
        var r = _random;
        FailsAt = from + TimeSpan.FromDays(-Math.Log(1 - r.NextDouble()) * _meanDaysToFailure);
        var roll = r.NextDouble();
        Kind = roll < 0.3 ? FailureKind.Thermal : roll < 0.55 ? FailureKind.Errors : roll < 0.7 ? FailureKind.Network : FailureKind.Sudden;
        var warning = TimeSpan.FromHours(1.5 + (r.NextDouble() * 4.5));
        PrecursorsFrom = FailsAt - warning < from ? from : FailsAt - warning;
    }

    private static double Normal(Random r) =>
        Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
