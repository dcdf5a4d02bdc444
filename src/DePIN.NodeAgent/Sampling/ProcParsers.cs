using System.Globalization;

namespace DePIN.NodeAgent.Sampling;

/// <summary>Parsers for the Linux /proc files the agent reads. Pure functions over the files' text.</summary>
public static class ProcParsers
{
    /// <summary>Cumulative CPU time of all cores from /proc/stat: (busy, total) in clock ticks.</summary>
    public static (ulong Busy, ulong Total) CpuTimes(string procStat)
    {
        var line = procStat.AsSpan(0, procStat.IndexOf('\n') is var end and >= 0 ? end : procStat.Length);
        if (!line.StartsWith("cpu "))
        {
            throw new FormatException("/proc/stat does not start with the aggregate 'cpu' line.");
        }

        // user nice system idle iowait irq softirq steal [guest guest_nice: already counted in user and nice]
        ulong total = 0, idle = 0;
        var field = 0;
        foreach (var range in line[4..].Split(' '))
        {
            var token = line[4..][range];
            if (token.IsEmpty)
            {
                continue;
            }

            if (field < 8)
            {
                var value = ulong.Parse(token, CultureInfo.InvariantCulture);
                total += value;
                if (field is 3 or 4)
                {
                    idle += value;
                }
            }

            field++;
        }

        return (total - idle, total);
    }

    /// <summary>(total, available) memory in bytes from /proc/meminfo.</summary>
    public static (long Total, long Available) Memory(string procMeminfo)
    {
        long total = -1, available = -1;
        foreach (var line in procMeminfo.Split('\n'))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                total = KilobytesField(line);
            }
            else if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
            {
                available = KilobytesField(line);
            }
        }

        if (total < 0 || available < 0)
        {
            throw new FormatException("/proc/meminfo lacks MemTotal or MemAvailable.");
        }

        return (total, available);
    }

    /// <summary>Bytes received and sent by all interfaces but loopback, from /proc/net/dev.</summary>
    public static (ulong Received, ulong Sent) NetworkBytes(string procNetDev)
    {
        ulong received = 0, sent = 0;
        foreach (var line in procNetDev.Split('\n').Skip(2))
        {
            var colon = line.IndexOf(':');
            if (colon < 0 || line[..colon].Trim() == "lo")
            {
                continue;
            }

            var fields = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            received += ulong.Parse(fields[0], CultureInfo.InvariantCulture);
            sent += ulong.Parse(fields[8], CultureInfo.InvariantCulture);
        }

        return (received, sent);
    }

    /// <summary>
    /// TCP segments sent and retransmitted since boot, from /proc/net/snmp (the <c>Tcp:</c> header line names the
    /// columns, the next <c>Tcp:</c> line holds them). Retransmissions per segment sent is the host's packet loss as
    /// its own connections see it.
    /// </summary>
    public static (ulong Sent, ulong Retransmitted) TcpSegments(string procNetSnmp)
    {
        var tcp = procNetSnmp.Split('\n').Where(l => l.StartsWith("Tcp:", StringComparison.Ordinal)).Take(2).ToArray();
        if (tcp.Length < 2)
        {
            throw new FormatException("/proc/net/snmp lacks the Tcp lines.");
        }

        var names = tcp[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var values = tcp[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        ulong Column(string name) => Array.IndexOf(names, name) is var i and > 0 && i < values.Length
            ? ulong.Parse(values[i], CultureInfo.InvariantCulture)
            : throw new FormatException($"/proc/net/snmp lacks Tcp {name}.");
        return (Column("OutSegs"), Column("RetransSegs"));
    }

    /// <summary>Bytes read and written by the given whole disks, from /proc/diskstats (sectors are 512 bytes).</summary>
    public static (ulong Read, ulong Written) DiskBytes(string procDiskstats, IReadOnlySet<string> disks)
    {
        ulong read = 0, written = 0;
        foreach (var line in procDiskstats.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 10 || !disks.Contains(fields[2]))
            {
                continue;
            }

            read += ulong.Parse(fields[5], CultureInfo.InvariantCulture) * 512;
            written += ulong.Parse(fields[9], CultureInfo.InvariantCulture) * 512;
        }

        return (read, written);
    }

    private static long KilobytesField(string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(fields[1], CultureInfo.InvariantCulture) * 1024;
    }
}
