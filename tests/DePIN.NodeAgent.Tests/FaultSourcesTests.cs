using DePIN.Abstractions.Telemetry;
using DePIN.NodeAgent.Sampling;
using DePIN.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace DePIN.NodeAgent.Tests;

/// <summary>Where an agent's fault events and network signs come from: the kernel log and the kernel's TCP counters.</summary>
public sealed class FaultSourcesTests
{
    [Theory]
    [InlineData("3,1201,5000000,-;NVRM: Xid (PCI:0000:3b:00): 79, pid=1402, GPU has fallen off the bus.", FaultKinds.GpuXid)]
    [InlineData("4,1202,5000000,-;NVRM: Xid (PCI:0000:3b:00): 48, pid=1402, DBE (double bit error) ECC Error", FaultKinds.GpuEcc)]
    [InlineData("3,1203,5000000,-;blk_update_request: I/O error, dev nvme0n1, sector 2048 op 0x1:(WRITE)", FaultKinds.Disk)]
    [InlineData("3,1204,5000000,-;EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0", FaultKinds.Disk)]
    [InlineData("6,1205,5000000,-;python3[4242]: segfault at 0 ip 00007f sp 00007ffd error 4 in libc.so.6", FaultKinds.Crash)]
    [InlineData("3,1206,5000000,-;Out of memory: Killed process 4242 (python3) total-vm:1234kB", FaultKinds.Crash)]
    [InlineData("2,1207,5000000,-;mce: [Hardware Error]: Machine check events logged", FaultKinds.Kernel)]
    public void Kernel_log_records_are_classified_by_what_they_report(string record, string kind)
    {
        var fault = KernelLog.Classify(record, sinceMicroseconds: 1_000_000);
        Assert.Equal(kind, fault?.Kind);
        Assert.StartsWith(record[(record.IndexOf(';') + 1)..][..20], fault!.Value.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("6,1300,5000000,-;e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex")] // informational
    [InlineData("3,1301,500,-;blk_update_request: I/O error, dev sda")]              // before the agent started
    [InlineData("not a kmsg record")]
    public void Other_records_are_not_faults(string record) =>
        Assert.Null(KernelLog.Classify(record, sinceMicroseconds: 1_000_000));

    [Fact]
    public void Tcp_segments_come_from_the_columns_the_header_names()
    {
        const string snmp = """
            Ip: Forwarding DefaultTTL InReceives
            Ip: 1 64 100
            Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
            Tcp: 1 200 120000 -1 141257 63715 77305 7228 0 32013293 31979004 32411 0 83973 0
            Udp: InDatagrams NoPorts
            Udp: 5 6
            """;
        Assert.Equal((31_979_004UL, 32_411UL), ProcParsers.TcpSegments(snmp));
        Assert.Throws<FormatException>(() => ProcParsers.TcpSegments("Ip: Forwarding\nIp: 1\n"));
    }

    [Fact]
    public async Task A_message_written_to_the_kernel_log_reaches_the_agent_as_a_fault()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || !File.Exists("/dev/kmsg"))
        {
            Assert.Skip("Writing to /dev/kmsg needs root on Linux.");
        }

        using var log = KernelLog.Watch(TimeProvider.System, NullLogger.Instance);
        var marker = $"depin-test {Guid.NewGuid():N}: I/O error, dev sdz, sector 8";
        await File.AppendAllTextAsync("/dev/kmsg", $"<3>{marker}\n", TestContext.Current.CancellationToken);

        // Written after the watch began, so it is read even if the watcher opens the log after the write.
        var seen = new List<FaultReport>();
        await Wait.Until(
            () =>
            {
                seen.AddRange(log.Take());
                return Task.FromResult(seen.Count);
            },
            _ => seen.Any(f => f.Detail.Contains(marker, StringComparison.Ordinal)),
            "the marker in the kernel log");

        var fault = Assert.Single(seen, f => f.Detail.Contains(marker, StringComparison.Ordinal));
        Assert.Equal(FaultKinds.Disk, fault.Kind);
    }
}
