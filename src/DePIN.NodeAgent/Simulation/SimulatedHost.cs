using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.NodeAgent.Sampling;

namespace DePIN.NodeAgent.Simulation;

/// <summary>
/// A synthetic but plausible machine: one of a few hardware profiles in one of several regions, whose load follows
/// the local time of day with noise, whose memory drifts, whose traffic and GPU heat follow its load. Deterministic
/// for a given seed and node index, in any process.
/// </summary>
public sealed class SimulatedHost : ITelemetrySource
{
    private const long GiB = 1024L * 1024 * 1024;

    private static readonly (string Region, double Latitude, double Longitude)[] Regions =
    [
        ("eu-west", 53.35, -6.26), ("eu-central", 50.11, 8.68), ("us-east", 38.90, -77.04), ("us-west", 37.77, -122.42),
        ("ap-southeast", 1.35, 103.82), ("ap-northeast", 35.68, 139.69), ("sa-east", -23.55, -46.63),
    ];

    private static readonly (string Kind, int Cores, long Memory, long Disk, double Mbps, string? Gpu, long Vram, int MaxGpus)[] Profiles =
    [
        ("gpu-server", 32, 128 * GiB, 2048 * GiB, 1000, "NVIDIA RTX 4090", 24 * GiB, 4),
        ("gpu-datacenter", 64, 512 * GiB, 8192 * GiB, 10000, "NVIDIA H100 80GB HBM3", 80 * GiB, 8),
        ("edge-box", 8, 16 * GiB, 256 * GiB, 100, "NVIDIA Jetson Orin", 16 * GiB, 1),
        ("sensor-gateway", 4, 4 * GiB, 32 * GiB, 20, null, 0, 0),
    ];

    private readonly Random _random;
    private readonly double _baseLoad;
    private readonly double _utcOffsetHours;
    private double _memoryFraction;
    private double _load;

    public SimulatedHost(int index, int seed)
        : this(new Random(Mix(seed, index)), Regions[index % Regions.Length], profileIndex: null, spreadDegrees: 4)
    {
    }

    private SimulatedHost(Random random, (string Region, double Latitude, double Longitude) place, int? profileIndex, double spreadDegrees)
    {
        _random = random;
        var (region, latitude, longitude) = place;
        var profile = Profiles[profileIndex ?? _random.Next(Profiles.Length)];
        var gpuCount = profile.Gpu is null ? 0 : 1 + _random.Next(profile.MaxGpus);
        Capabilities = new NodeCapabilities(
            CpuCores: profile.Cores,
            MemoryBytes: profile.Memory,
            Gpus: [.. Enumerable.Range(0, gpuCount).Select(_ => new GpuInfo(profile.Gpu!, profile.Vram))],
            DiskBytes: profile.Disk,
            BandwidthMbps: profile.Mbps,
            Region: region,
            Latitude: Math.Round(latitude + (_random.NextDouble() - 0.5) * spreadDegrees, 4),
            Longitude: Math.Round(longitude + (_random.NextDouble() - 0.5) * spreadDegrees, 4),
            AgentVersion: HostSampler.AgentVersion);
        _baseLoad = 0.15 + _random.NextDouble() * 0.4;
        _utcOffsetHours = longitude / 15;
        _memoryFraction = 0.2 + _random.NextDouble() * 0.4;
        _load = _baseLoad;
    }

    public NodeCapabilities Capabilities { get; }

    /// <summary>
    /// The <paramref name="index"/>th sensor gateway, standing exactly at <paramref name="latitude"/>,
    /// <paramref name="longitude"/>: a weather station. Its randomness is apart from the fleet's nodes'.
    /// </summary>
    public static SimulatedHost SensorGateway(int index, string region, double latitude, double longitude, int seed) =>
        new(new Random(Mix(seed, -1 - index)), (region, latitude, longitude), SensorGatewayProfile, spreadDegrees: 0);

    private const int SensorGatewayProfile = 3;

    // Stable across processes, unlike HashCode.Combine, whose seed is random per process: a restarted fleet keeps its machines.
    private static int Mix(int seed, int index) => unchecked(seed * 1_000_003 + index);

    public TelemetrySample Sample(DateTimeOffset now)
    {
        // Busier in the local afternoon, quieter at night, with mean-reverting noise.
        var localHour = (now.UtcDateTime.TimeOfDay.TotalHours + _utcOffsetHours + 24) % 24;
        var daily = 0.2 * Math.Sin((localHour - 9) / 24 * 2 * Math.PI);
        _load = Math.Clamp(_load + 0.3 * (_baseLoad + daily - _load) + Gaussian(0.05), 0.01, 0.99);
        _memoryFraction = Math.Clamp(_memoryFraction + Gaussian(0.01), 0.05, 0.95);

        var c = Capabilities;
        var linkBytes = c.BandwidthMbps * 125_000;
        var disk = (long)(c.DiskBytes * (0.3 + 0.2 * _baseLoad));
        return new TelemetrySample(
            At: now,
            CpuUtilization: Math.Round(_load, 4),
            MemoryUsedBytes: (long)(c.MemoryBytes * _memoryFraction),
            MemoryTotalBytes: c.MemoryBytes,
            NetRxBytesPerSecond: Math.Round(linkBytes * _load * 0.2 * (0.8 + 0.4 * _random.NextDouble())),
            NetTxBytesPerSecond: Math.Round(linkBytes * _load * 0.1 * (0.8 + 0.4 * _random.NextDouble())),
            DiskReadBytesPerSecond: Math.Round(50e6 * _load * _random.NextDouble()),
            DiskWriteBytesPerSecond: Math.Round(20e6 * _load * _random.NextDouble()),
            DiskUsedBytes: disk,
            DiskTotalBytes: c.DiskBytes,
            Gpus: [.. c.Gpus.Select((gpu, i) =>
            {
                var utilization = Math.Clamp(_load + Gaussian(0.1), 0, 1);
                return new GpuSample(i, Math.Round(utilization, 4), (long)(gpu.VramBytes * (0.1 + 0.8 * utilization)),
                    Math.Round(35 + 45 * utilization + Gaussian(1.5), 1), Math.Round(60 + 290 * utilization, 1));
            })],
            PacketLoss: Math.Round(Math.Clamp(0.001 + Gaussian(0.0005), 0, 1), 5));
    }

    private double Gaussian(double sigma)
    {
        // Box-Muller
        var u1 = 1 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return sigma * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
