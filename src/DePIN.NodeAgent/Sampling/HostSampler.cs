using System.Reflection;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;

namespace DePIN.NodeAgent.Sampling;

/// <summary>
/// Samples the machine the agent runs on: CPU, memory, network and disk I/O from /proc, disk space from the root
/// file system, GPUs through nvidia-smi when present, TCP retransmissions as packet loss, and fault events from the
/// kernel log (<see cref="KernelLog"/>). Rates are deltas of the kernel's counters since the last sample.
/// </summary>
public sealed class HostSampler : ITelemetrySource, IDisposable
{
    private readonly KernelLog? _kernel;
    private readonly HashSet<string> _disks = WholeDisks();
    private readonly bool _hasGpus;
    private Counters _last;

    public HostSampler(AgentOptions options, KernelLog? kernel = null)
    {
        _kernel = kernel;
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The real agent reads /proc and runs on Linux; use --simulate elsewhere.");
        }

        var gpus = NvidiaSmi.Read();
        _hasGpus = gpus.Count > 0;
        var (memoryTotal, _) = ProcParsers.Memory(File.ReadAllText("/proc/meminfo"));
        var root = new DriveInfo("/");
        Capabilities = new NodeCapabilities(
            CpuCores: Environment.ProcessorCount,
            MemoryBytes: memoryTotal,
            Gpus: [.. gpus.Select(g => g.Info)],
            DiskBytes: root.TotalSize,
            BandwidthMbps: options.BandwidthMbps ?? LinkSpeedMbps(),
            Region: options.Region,
            Latitude: options.Latitude,
            Longitude: options.Longitude,
            AgentVersion: AgentVersion);
        _last = ReadCounters(DateTimeOffset.UtcNow);
    }

    public static string AgentVersion { get; } =
        typeof(HostSampler).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    public NodeCapabilities Capabilities { get; }

    public TelemetrySample Sample(DateTimeOffset now)
    {
        var current = ReadCounters(now);
        var seconds = Math.Max((current.At - _last.At).TotalSeconds, 1e-3);
        var busy = current.CpuBusy - _last.CpuBusy;
        var total = current.CpuTotal - _last.CpuTotal;
        var (memoryTotal, memoryAvailable) = ProcParsers.Memory(File.ReadAllText("/proc/meminfo"));
        var root = new DriveInfo("/");
        var sample = new TelemetrySample(
            At: now,
            CpuUtilization: total == 0 ? 0 : Math.Clamp((double)busy / total, 0, 1),
            MemoryUsedBytes: memoryTotal - memoryAvailable,
            MemoryTotalBytes: memoryTotal,
            NetRxBytesPerSecond: Rate(current.NetRx, _last.NetRx, seconds),
            NetTxBytesPerSecond: Rate(current.NetTx, _last.NetTx, seconds),
            DiskReadBytesPerSecond: Rate(current.DiskRead, _last.DiskRead, seconds),
            DiskWriteBytesPerSecond: Rate(current.DiskWrite, _last.DiskWrite, seconds),
            DiskUsedBytes: root.TotalSize - root.TotalFreeSpace,
            DiskTotalBytes: root.TotalSize,
            Gpus: _hasGpus ? [.. NvidiaSmi.Read().Select(g => g.Sample)] : [],
            PacketLoss: current.TcpSent > _last.TcpSent && current.TcpRetransmitted >= _last.TcpRetransmitted
                ? Math.Clamp((double)(current.TcpRetransmitted - _last.TcpRetransmitted) / (current.TcpSent - _last.TcpSent), 0, 1)
                : null);
        _last = current;
        return sample;
    }

    public FaultReport[] TakeFaults() => _kernel?.Take() ?? [];

    public void Dispose() => _kernel?.Dispose();

    // Counters can go backwards when an interface or disk disappears; report 0 then rather than a huge rate.
    private static double Rate(ulong current, ulong previous, double seconds) =>
        current >= previous ? (current - previous) / seconds : 0;

    private Counters ReadCounters(DateTimeOffset at)
    {
        var (busy, total) = ProcParsers.CpuTimes(File.ReadAllText("/proc/stat"));
        var (rx, tx) = ProcParsers.NetworkBytes(File.ReadAllText("/proc/net/dev"));
        var (read, written) = File.Exists("/proc/diskstats")
            ? ProcParsers.DiskBytes(File.ReadAllText("/proc/diskstats"), _disks)
            : (0UL, 0UL);
        var (tcpSent, tcpRetransmitted) = File.Exists("/proc/net/snmp") ? ProcParsers.TcpSegments(File.ReadAllText("/proc/net/snmp")) : (0UL, 0UL);
        return new Counters(at, busy, total, rx, tx, read, written, tcpSent, tcpRetransmitted);
    }

    // Whole block devices (not partitions), without loop and RAM devices that only mirror other I/O.
    private static HashSet<string> WholeDisks() =>
        Directory.Exists("/sys/block")
            ? [.. Directory.GetDirectories("/sys/block").Select(Path.GetFileName).OfType<string>()
                .Where(name => !name.StartsWith("loop", StringComparison.Ordinal) && !name.StartsWith("ram", StringComparison.Ordinal) &&
                               !name.StartsWith("zram", StringComparison.Ordinal))]
            : [];

    private static double LinkSpeedMbps()
    {
        var speeds = Directory.Exists("/sys/class/net")
            ? Directory.GetDirectories("/sys/class/net")
                .Where(dir => Path.GetFileName(dir) != "lo")
                .Select(dir => TryReadNumber(Path.Combine(dir, "speed")))
                .Where(speed => speed > 0)
            : [];
        return speeds.DefaultIfEmpty(0).Max();
    }

    private static double TryReadNumber(string path)
    {
        try
        {
            return double.TryParse(File.ReadAllText(path).Trim(), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0;
        }
        catch (IOException)
        {
            return 0; // e.g. EINVAL on virtual interfaces
        }
    }

    private readonly record struct Counters(
        DateTimeOffset At, ulong CpuBusy, ulong CpuTotal, ulong NetRx, ulong NetTx, ulong DiskRead, ulong DiskWrite, ulong TcpSent, ulong TcpRetransmitted);
}
