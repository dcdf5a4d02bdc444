using System.Text.Json;
using System.Text.RegularExpressions;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>
/// The Grafana board shipped in <c>k8s/depin/dashboards/depin.json</c> reads only metrics a real silo exports: a silo
/// takes a node's telemetry, places a job and holds a dataset, and every metric name in every query must be on its
/// <c>/metrics</c>; so must every metric name in the alerting rules of <c>k8s/depin/rules</c>.
/// </summary>
public sealed partial class GrafanaBoardTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>
{
    private static readonly string Board = Path.Combine(Repository.Root, "k8s", "depin", "dashboards", "depin.json");
    private static readonly string Rules = Path.Combine(Repository.Root, "k8s", "depin", "rules", "depin.rules.yaml");

    [Fact]
    public async Task Every_query_of_the_board_reads_a_metric_the_silo_exports_and_every_section_is_there()
    {
        using var board = JsonDocument.Parse(await File.ReadAllTextAsync(Board));
        var panels = board.RootElement.GetProperty("panels").EnumerateArray().ToArray();
        var queries = panels.Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => (Panel: p.GetProperty("title").GetString()!, Expr: t.GetProperty("expr").GetString()!)))
            .ToArray();
        var exported = await ExportedAfterWork();

        var unknown = queries.SelectMany(q => MetricName().Matches(q.Expr).Select(m => (q.Panel, Name: m.Value)))
            .Where(q => !exported.Contains(q.Name)).ToArray();

        Assert.True(unknown.Length == 0, "not exported: " + string.Join(", ", unknown.Select(u => $"{u.Name} ({u.Panel})")));
        Assert.True(queries.Length >= 15, $"only {queries.Length} queries");
        Assert.Equal(["Fleet", "Ingest", "Jobs", "Datasets", "Maintenance"],
            panels.Where(p => p.GetProperty("type").GetString() == "row").Select(p => p.GetProperty("title").GetString()));

        // The alerting rules shipped beside the board read the same exported names.
        var rules = (await File.ReadAllLinesAsync(Rules)).Where(l => l.TrimStart().StartsWith("expr:", StringComparison.Ordinal)).ToArray();
        var unknownInRules = rules.SelectMany(r => MetricName().Matches(r).Select(m => m.Value)).Where(n => !exported.Contains(n)).ToArray();
        Assert.True(rules.Length >= 8, $"only {rules.Length} rules");
        Assert.True(unknownInRules.Length == 0, "rules read names not exported: " + string.Join(", ", unknownInRules));
    }

    /// <summary>The metric names on the silo's /metrics once it has taken telemetry, placed a job and created a dataset.</summary>
    private async Task<HashSet<string>> ExportedAfterWork()
    {
        using var node = TestNode.Create(region: "board-a");
        (await node.Register(cluster.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
        (await node.Send(cluster.Http, node.Batch(1, DateTimeOffset.UtcNow))).EnsureSuccessStatusCode();
        await cluster.NodeWhen(node.Id, n => n.Status == NodeStatus.Online, "the node online");

        var jobs = new JobApi(cluster.Http);
        var key = await jobs.NewTenant();
        var spec = TestJob.Spec(replicas: 1, cpuCores: 1) with { Constraints = JobConstraints.None with { Regions = ["board-a"] } };
        (await jobs.Send(HttpMethod.Put, "/v1/jobs/board", key, spec)).EnsureSuccessStatusCode();
        await Wait.Until(() => jobs.Get<JobDetails>("/v1/jobs/board", key), j => j.Status is JobStatus.Placed or JobStatus.Running, "the job placed");

        var dataset = JobApi.Unique("board").ToLowerInvariant();
        var definition = await File.ReadAllBytesAsync(Path.Combine(Repository.Root, "data", "weather", "dataset.json"));
        (await jobs.SendRaw(HttpMethod.Put, $"/v1/datasets/{dataset}", Http.OperatorKey, definition)).EnsureSuccessStatusCode();

        return await Wait.Until(
            async () => Names(await cluster.Http.GetStringAsync("/metrics")),
            names => names.Contains("depin_dataset_records") && names.Contains("depin_placement_latency_seconds_bucket"),
            "the dataset and the placement on /metrics");
    }

    private static HashSet<string> Names(string metrics) =>
        [.. metrics.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l[..l.IndexOfAny(['{', ' '])])];

    [GeneratedRegex(@"\bdepin_[a-z_]+\b")]
    private static partial Regex MetricName();
}
