using System.Globalization;
using DePIN.Abstractions.Telemetry;

namespace DePIN.NodeAgent.Sampling;

/// <summary>
/// Fault events from the kernel's log (<c>/dev/kmsg</c>): GPU Xid and ECC errors from the NVIDIA driver, disk I/O
/// errors, crashed and OOM-killed processes, and any other message at error level or worse. A background thread reads
/// the log as the kernel writes it; records from before the agent started are skipped. Reading it needs root or
/// CAP_SYSLOG; without, the agent says so once and reports no kernel faults.
/// </summary>
public sealed partial class KernelLog : IDisposable
{
    /// <summary>Faults kept for the next batch at most; older ones are dropped first.</summary>
    public const int MaxPending = 256;

    private const int DetailLength = 256;
    private readonly Queue<FaultReport> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    private KernelLog(TimeProvider time, ILogger logger)
    {
        _time = time;
        _logger = logger;
    }

    /// <summary>Starts watching; <paramref name="path"/> is <c>/dev/kmsg</c> but for tests.</summary>
    public static KernelLog Watch(TimeProvider time, ILogger logger, string path = "/dev/kmsg")
    {
        var log = new KernelLog(time, logger);
        var since = UptimeMicroseconds();
        _ = Task.Factory.StartNew(() => log.Read(path, since), log._stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return log;
    }

    /// <summary>The faults seen since the last call, oldest first.</summary>
    public FaultReport[] Take()
    {
        lock (_pending)
        {
            var faults = _pending.ToArray();
            _pending.Clear();
            return faults;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    /// <summary>
    /// The fault a kmsg record (<c>priority,sequence,microseconds,flags;message</c>) reports, or null when it reports
    /// none or was written before <paramref name="sinceMicroseconds"/> after boot.
    /// </summary>
    public static (string Kind, string Detail)? Classify(string record, long sinceMicroseconds)
    {
        var semicolon = record.IndexOf(';', StringComparison.Ordinal);
        if (semicolon < 0)
        {
            return null;
        }

        var header = record[..semicolon].Split(',');
        if (header.Length < 3 || !int.TryParse(header[0], CultureInfo.InvariantCulture, out var priority) ||
            !long.TryParse(header[2], CultureInfo.InvariantCulture, out var micros) || micros < sinceMicroseconds)
        {
            return null;
        }

        var message = record[(semicolon + 1)..].Split('\n')[0].Trim();
        var kind = message switch
        {
            _ when message.Contains("NVRM: Xid", StringComparison.Ordinal) && IsEccXid(message) => FaultKinds.GpuEcc,
            _ when message.Contains("NVRM: Xid", StringComparison.Ordinal) => FaultKinds.GpuXid,
            _ when message.Contains("I/O error", StringComparison.Ordinal) || message.Contains("blk_update_request", StringComparison.Ordinal) ||
                   message.Contains("EXT4-fs error", StringComparison.Ordinal) || message.Contains("critical medium error", StringComparison.Ordinal) ||
                   (message.StartsWith("nvme", StringComparison.Ordinal) && message.Contains("timeout", StringComparison.Ordinal)) => FaultKinds.Disk,
            _ when message.Contains("segfault at", StringComparison.Ordinal) || message.Contains("Out of memory: Killed process", StringComparison.Ordinal) ||
                   message.Contains("oom-kill", StringComparison.Ordinal) => FaultKinds.Crash,
            _ when (priority & 7) <= 3 => FaultKinds.Kernel, // err, crit, alert, emerg
            _ => null,
        };
        return kind is null ? null : (kind, message.Length > DetailLength ? message[..DetailLength] : message);
    }

    // Xids the NVIDIA driver raises for memory errors: 48 double-bit ECC, 63/64 row remapping, 94/95 contained and
    // uncontained ECC errors.
    private static bool IsEccXid(string message) =>
        XidDigits().Match(message) is { Success: true } m && m.Groups[1].Value is "48" or "63" or "64" or "94" or "95";

    [System.Text.RegularExpressions.GeneratedRegex(@"Xid(?: \([^)]*\))?:? (\d+)")]
    private static partial System.Text.RegularExpressions.Regex XidDigits();

    private static long UptimeMicroseconds()
    {
        try
        {
            var seconds = File.ReadAllText("/proc/uptime").Split(' ')[0];
            return (long)(double.Parse(seconds, CultureInfo.InvariantCulture) * 1_000_000);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private void Read(string path, long since)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            var buffer = new byte[8192]; // one record per read; a smaller buffer is refused (EINVAL)
            while (!_stop.IsCancellationRequested)
            {
                int read;
                try
                {
                    read = stream.Read(buffer, 0, buffer.Length);
                }
                catch (IOException)
                {
                    continue; // EPIPE: records were overwritten before we read them; carry on from the next
                }

                if (read <= 0)
                {
                    return;
                }

                if (Classify(System.Text.Encoding.UTF8.GetString(buffer, 0, read), since) is { } fault)
                {
                    lock (_pending)
                    {
                        _pending.Enqueue(new FaultReport(_time.GetUtcNow(), fault.Kind, fault.Detail));
                        while (_pending.Count > MaxPending)
                        {
                            _pending.Dequeue();
                        }
                    }
                }
            }
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            LogUnreadable(ex.Message, path);
        }
    }

    [LoggerMessage(LogLevel.Warning, "The kernel log cannot be read ({Reason}); kernel fault events will not be reported. Run the agent as root or with CAP_SYSLOG to read {Path}.")]
    private partial void LogUnreadable(string reason, string path);
}
