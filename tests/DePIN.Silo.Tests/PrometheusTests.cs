using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>
/// A real Prometheus (Debian's package) scrapes two real silos of one cluster: the fleet it counts is the fleet the
/// API registered, every <c>/metrics</c> page passes <c>promtool check metrics</c>, and the chart's alerting rules load,
/// evaluate without error on the silos' series and pass their unit tests.
/// </summary>
public sealed class PrometheusTests(PostgresServer postgres)
{
    private static readonly string Rules = Path.Combine(Repository.Root, "k8s", "depin", "rules", "depin.rules.yaml");
    private static readonly string RuleTests = Path.Combine(Repository.Root, "tests", "DePIN.Silo.Tests", "Prometheus", "depin.rules.test.yaml");

    [Fact]
    public async Task Prometheus_scraping_two_silos_counts_the_nodes_online_on_either_and_evaluates_the_alert_rules()
    {
        var database = await postgres.CreateDatabase();
        var clusterId = $"prometheus-{Guid.NewGuid():N}";
        // Nodes stay online for the test's length without further telemetry.
        var settings = new Dictionary<string, string>(SiloOnPostgres.Settings) { ["Nodes:TelemetryInterval"] = "00:01:00" };
        await using var first = await ServiceProcess.StartSilo(database, clusterId, settings);
        await using var second = await ServiceProcess.StartSilo(database, clusterId, settings);
        var nodes = Enumerable.Range(0, 5).Select(i => TestNode.Create(region: i % 2 == 0 ? "prom-a" : "prom-b")).ToArray();
        try
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var (node, i) in nodes.Select((n, i) => (n, i)))
            {
                // Alternate silos: which silo's directory shard counts a node is the cluster's choice, not the API's.
                var http = i % 2 == 0 ? first.Http : second.Http;
                (await node.Register(http, now)).EnsureSuccessStatusCode();
                (await node.Send(http, node.Batch(1, now))).EnsureSuccessStatusCode();
            }

            await using var prometheus = await PrometheusServer.Start(
                [$"127.0.0.1:{first.HttpPort}", $"127.0.0.1:{second.HttpPort}"], job: "depin", ruleFiles: [Rules]);

            // Both silos scraped and up (each target's first scrape comes within its interval, not at once)...
            var up = await Wait.Until(() => prometheus.Query("up{job=\"depin\"} == 1"), r => r.Count == 2, "both silos scraped and up",
                TimeSpan.FromSeconds(60));
            Assert.Equal(new[] { $"127.0.0.1:{first.HttpPort}", $"127.0.0.1:{second.HttpPort}" }.Order(), up.Select(s => s.Labels["instance"]).Order());

            // ...and the fleet, summed over the directory shards each silo hosts, is every node the API registered.
            var online = await Wait.Until(() => prometheus.Query("sum(depin_nodes{status=\"online\"})"),
                r => r.Count == 1 && r[0].Value == nodes.Length, $"Prometheus to count {nodes.Length} nodes online", TimeSpan.FromSeconds(60));
            Assert.Equal(nodes.Length, online[0].Value);
            var instances = await prometheus.Query("count by (instance) (depin_nodes{status=\"online\"})");
            Assert.Equal(2, instances.Count);

            // Every rule evaluated on the silos' real series, without error; none fires on a healthy cluster.
            var rules = await Wait.Until(prometheus.Rules, r => r.Count > 0 && r.All(rule => rule.Health != "unknown"),
                "every rule evaluated", TimeSpan.FromSeconds(30));
            Assert.All(rules, rule => Assert.True(rule.Health == "ok", $"{rule.Group}/{rule.Name}: {rule.Health} {rule.Error}"));
            Assert.Empty(await prometheus.Query("ALERTS{alertstate=\"firing\"}"));

            // promtool's linter on each silo's page as Prometheus scraped it.
            foreach (var silo in new[] { first, second })
            {
                var page = await silo.Http.GetStringAsync("/metrics");
                var (exitCode, output, error) = await ProcessRunner.Capture(PrometheusServer.Tool("promtool"), ["check", "metrics"], input: page);
                Assert.True(exitCode == 0 && output.Length + error.Length == 0, $"promtool check metrics on silo {silo.HttpPort} ({exitCode}):\n{output}{error}");
            }
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Dispose();
            }
        }
    }

    [Fact]
    public async Task The_alert_rules_pass_promtool_check_rules_and_their_unit_tests()
    {
        var check = await ProcessRunner.Capture(PrometheusServer.Tool("promtool"), ["check", "rules", Rules]);
        Assert.True(check.ExitCode == 0, check.Output + check.Error);
        Assert.Contains("SUCCESS", check.Output);

        var test = await ProcessRunner.Capture(PrometheusServer.Tool("promtool"), ["test", "rules", RuleTests]);
        Assert.True(test.ExitCode == 0, test.Output + test.Error);
    }
}
