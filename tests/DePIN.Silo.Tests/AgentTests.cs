using DePIN.Abstractions.Nodes;
using DePIN.Core.Identity;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>The node agent as its own process against a silo process: registration, telemetry, restarts.</summary>
public sealed class AgentTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>, IDisposable
{
    private readonly string _keys = Path.Combine(Path.GetTempPath(), $"depin-agent-{Guid.NewGuid():N}");

    [Fact]
    public async Task A_simulated_fleet_registers_streams_telemetry_and_keeps_its_ids_across_restarts()
    {
        var api = cluster.Http.BaseAddress!.ToString();
        string[] fleet = ["--api", api, "--simulate", "3", "--interval", "0.2", "--key-dir", _keys];
        List<NodeDetails> first;
        await using (await ServiceProcess.StartAgent(fleet))
        {
            var ids = await Wait.Until(() => Task.FromResult(KeyIds()), ids => ids.Count == 3, "three key files");
            first = await AllOnline(ids);
        }

        await using (await ServiceProcess.StartAgent(fleet))
        {
            Assert.Equal(first.Select(n => n.NodeId).Order(), KeyIds().Order());
            var again = await Wait.Until(
                () => Task.WhenAll(first.Select(n => cluster.Node(n.NodeId))),
                nodes => nodes.Zip(first).All(pair => pair.First.LastSequence > pair.Second.LastSequence),
                "the restarted agent's telemetry to be accepted");
            Assert.All(again, n => Assert.Equal(0, n.Counters.Replayed));
            Assert.All(again.Zip(first), pair => Assert.Equal(pair.Second.RegisteredAt, pair.First.RegisteredAt));
        }
    }

    [Fact]
    public async Task The_real_agent_reports_the_machine_it_runs_on()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The real agent reads Linux's /proc.");
        var keyFile = Path.Combine(_keys, "node.key");
        await using var agent = await ServiceProcess.StartAgent(
            "--api", cluster.Http.BaseAddress!.ToString(), "--key-file", keyFile, "--interval", "0.2", "--region", "local-test");

        var id = await Wait.Until(() => Task.FromResult(File.Exists(keyFile) ? NodeSigner.Import(File.ReadAllBytes(keyFile)).NodeId : null),
            id => id is not null, "the agent's key file");
        var node = (await AllOnline([id!]))[0];

        Assert.Equal(Environment.ProcessorCount, node.Capabilities.CpuCores);
        Assert.Equal("local-test", node.Capabilities.Region);
        var memTotalKb = long.Parse(File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        Assert.Equal(memTotalKb * 1024, node.Capabilities.MemoryBytes);
        Assert.InRange(node.Telemetry.CpuUtilization, 0, 1);
        Assert.True(node.Telemetry.MemoryUtilization > 0);
    }

    public void Dispose()
    {
        if (Directory.Exists(_keys))
        {
            Directory.Delete(_keys, recursive: true);
        }
    }

    private List<string> KeyIds() => AgentKeys.NodeIds(_keys);

    private async Task<List<NodeDetails>> AllOnline(IReadOnlyCollection<string> ids) =>
        [.. (await Wait.Until(
            () => Task.WhenAll(ids.Select(id => cluster.Http.Find<NodeDetails>($"/v1/nodes/{id}"))),
            nodes => nodes.All(n => n is { Status: NodeStatus.Online, LastSequence: > 0 }),
            $"nodes {string.Join(", ", ids)} to be online")).Select(n => n!)];
}
