using System.Net.Http.Json;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Http;
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

    [Fact]
    public async Task Weather_stations_in_a_simulated_fleet_contribute_the_shipped_archive_to_the_dataset_the_CLI_created()
    {
        var api = cluster.Http.BaseAddress!.ToString();
        var shipped = Path.Combine(Repository.Root, "data", "weather");
        string[] create = ["dataset", "create", "weather", "--api", api, "--definition", Path.Combine(shipped, "dataset.json")];

        Assert.Equal(2, (await Cli(create, key: null)).ExitCode);
        Assert.Equal(1, (await Cli(create, key: "not-a-key")).ExitCode);
        var created = await Cli(create, DePIN.Testing.Http.OperatorKey);
        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Contains("created dataset 'weather'", created.Error, StringComparison.Ordinal);
        var again = await Cli(create, DePIN.Testing.Http.OperatorKey);
        Assert.Equal((0, "depin: dataset 'weather' already exists with this definition.\n"), (again.ExitCode, again.Error));

        string[] fleet = ["--api", api, "--simulate", "1", "--interval", "0.2", "--key-dir", _keys,
            "--weather", Path.Combine(shipped, "weather.csv"), "--weather-rate", "1000"];
        await using (await ServiceProcess.StartAgent(fleet))
        {
            await Wait.Until(() => cluster.Http.Find<DatasetInfo>("/v1/datasets/weather"), info => info?.TreeHead.Size == 2922,
                "the dataset to hold the archive's 2,922 readings", TimeSpan.FromMinutes(2));
        }

        // One contributor per city, all of its days; every row exported as the archive has it.
        using var snapshot = await cluster.Http.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "/v1/datasets/weather/snapshots").WithKey(DePIN.Testing.Http.OperatorKey));
        var manifest = (await snapshot.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<SnapshotManifest>(ApiJson.Options))!;
        var stations = AgentKeys.NodeIds(_keys, "station-*.key");
        Assert.Equal(stations.Order(), manifest.Contributors.Select(c => c.Source).Order());
        Assert.All(manifest.Contributors, c => Assert.Equal(1461, c.Records));
        Assert.Equal(["us-east", "us-west"], manifest.Regions.Select(r => r.Source).Order());
        Assert.Equal(["weather-station/noaa-daily-summary"], manifest.Sensors.Select(s => s.Source));

        var csv = await cluster.Http.GetStringAsync($"/v1/datasets/weather/snapshots/{manifest.Size}/records?format=csv");
        var exported = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2923, exported.Length);
        var archive = File.ReadLines(Path.Combine(shipped, "weather.csv")).Skip(1).Select(l => l.Split(','))
            .Select(c => (Day: c[1], Values: Normal(c[2..]))).ToHashSet();
        var header = exported[0].Split(',');
        var columns = new[] { "precipitation", "temp_max", "temp_min", "wind", "weather" }.Select(f => Array.IndexOf(header, f)).ToArray();
        var sampled = Array.IndexOf(header, "sampled_at");
        Assert.DoesNotContain(-1, columns.Append(sampled));
        var rows = exported[1..].Select(l => l.Split(','))
            .Select(c => (Day: c[sampled][..10], Values: Normal(columns.Select(i => c[i])))).ToList();
        Assert.Subset(archive, rows.ToHashSet());

        // Restarted, the stations go through their archives again: every reading answered with its first receipt.
        await using (var restarted = await ServiceProcess.StartAgent(fleet))
        {
            await Wait.Until(() => restarted.Http.GetStringAsync("/metrics"),
                m => MetricsText.Has(m, "depin_agent_contributions_total") && MetricsText.Value(m, "depin_agent_contributions_total", ("result", "repeat")) == 2922,
                "the restarted stations to resend all 2,922 readings", TimeSpan.FromMinutes(2));
        }

        Assert.Equal(2922, (await cluster.Http.Find<DatasetInfo>("/v1/datasets/weather"))!.TreeHead.Size);
    }

    // Numbers compared as numbers ("0.0" in the archive is 0 in the export).
    private static string Normal(IEnumerable<string> cells) => string.Join(',', cells.Select(c =>
        double.TryParse(c, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : c));

    private static Task<(int ExitCode, string Output, string Error)> Cli(string[] args, string? key) =>
        ProcessRunner.Capture("dotnet", [Repository.Built("DePIN.Cli", "depin"), .. args],
            environment: new Dictionary<string, string> { ["DEPIN_API_KEY"] = key ?? "" });

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
