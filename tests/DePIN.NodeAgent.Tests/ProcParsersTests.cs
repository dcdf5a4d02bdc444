using DePIN.NodeAgent.Sampling;

namespace DePIN.NodeAgent.Tests;

public sealed class ProcParsersTests
{
    [Fact]
    public void Cpu_times_count_idle_and_iowait_as_not_busy_and_ignore_guest_time()
    {
        const string stat = """
            cpu  100 5 50 800 20 3 2 10 7 0
            cpu0 50 2 25 400 10 1 1 5 3 0
            intr 12345
            """;

        var (busy, total) = ProcParsers.CpuTimes(stat);

        Assert.Equal(990UL, total);          // user..steal; guest is already inside user
        Assert.Equal(990UL - 820UL, busy);   // minus idle and iowait
    }

    [Fact]
    public void Memory_is_total_and_available_in_bytes()
    {
        const string meminfo = """
            MemTotal:       16318508 kB
            MemFree:         1234567 kB
            MemAvailable:    8159254 kB
            Buffers:          123456 kB
            """;

        Assert.Equal((16318508L * 1024, 8159254L * 1024), ProcParsers.Memory(meminfo));
    }

    [Fact]
    public void Network_bytes_sum_every_interface_but_loopback()
    {
        const string netDev = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo: 9999999   10000    0    0    0     0          0         0  9999999   10000    0    0    0     0       0          0
              eth0: 1000      10       0    0    0     0          0         0  2000      20       0    0    0     0       0          0
             wlan0: 300       3        0    0    0     0          0         0  400       4        0    0    0     0       0          0
            """;

        Assert.Equal((1300UL, 2400UL), ProcParsers.NetworkBytes(netDev));
    }

    [Fact]
    public void Disk_bytes_count_whole_disks_in_512_byte_sectors()
    {
        const string diskstats = """
             259       0 nvme0n1 100 0 2000 50 200 0 4000 80 0 100 130 0 0 0 0
             259       1 nvme0n1p1 90 0 1800 45 190 0 3900 75 0 95 120 0 0 0 0
               7       0 loop0 5 0 10 1 0 0 0 0 0 1 1 0 0 0 0
            """;

        Assert.Equal((2000UL * 512, 4000UL * 512), ProcParsers.DiskBytes(diskstats, new HashSet<string> { "nvme0n1" }));
    }

    [Fact]
    public void Nvidia_smi_csv_becomes_gpus_and_samples()
    {
        const string csv = """
            0, NVIDIA GeForce RTX 4090, 87, 20480, 24564, 71, 402.50
            1, NVIDIA GeForce RTX 4090, 3, 512, 24564, 35, [N/A]
            """;

        var gpus = NvidiaSmi.Parse(csv);

        Assert.Equal(2, gpus.Count);
        Assert.Equal("NVIDIA GeForce RTX 4090", gpus[0].Info.Model);
        Assert.Equal(24564L * 1024 * 1024, gpus[0].Info.VramBytes);
        Assert.Equal(0.87, gpus[0].Sample.Utilization, 6);
        Assert.Equal(20480L * 1024 * 1024, gpus[0].Sample.MemoryUsedBytes);
        Assert.Equal(71, gpus[0].Sample.TemperatureC);
        Assert.Equal(0, gpus[1].Sample.PowerWatts);
        Assert.Equal(1, gpus[1].Sample.Index);
    }

    [Fact]
    public void The_real_host_is_sampled_from_proc()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The real sampler reads Linux's /proc.");
        var sampler = new HostSampler(new AgentOptions { Region = "local" });

        var sample = sampler.Sample(DateTimeOffset.UtcNow);

        Assert.Equal(Environment.ProcessorCount, sampler.Capabilities.CpuCores);
        Assert.True(sampler.Capabilities.MemoryBytes > 0);
        Assert.Equal(sampler.Capabilities.MemoryBytes, sample.MemoryTotalBytes);
        Assert.InRange(sample.CpuUtilization, 0, 1);
        Assert.InRange(sample.MemoryUsedBytes, 1, sample.MemoryTotalBytes);
        Assert.InRange(sample.DiskUsedBytes, 1, sample.DiskTotalBytes);
        Assert.True(sample.NetRxBytesPerSecond >= 0 && sample.DiskReadBytesPerSecond >= 0);
    }
}
