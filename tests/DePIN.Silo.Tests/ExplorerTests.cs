using System.Net;
using System.Net.Http.Json;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Datasets;
using DePIN.Testing;
using Microsoft.Playwright;

namespace DePIN.Silo.Tests;

/// <summary>
/// The explorer at <c>/explorer</c>, in headless Chromium against a real silo on PostgreSQL: the fleet shows on the
/// map and in the list, a node's page shows its telemetry and follows it live, a dataset's page proves each new tree
/// head consistent with the last in the browser, a tenant sees its jobs; no page logs an error. Screenshots go to
/// TestResults/explorer.
/// </summary>
public sealed class ExplorerTests(SiloOnPostgres cluster, Browser browser) : IClassFixture<SiloOnPostgres>, IClassFixture<Browser>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly (string Region, double Latitude, double Longitude)[] Places =
        [("explorer-eu", 52.37, 4.90), ("explorer-us", 40.71, -74.01), ("explorer-ap", 35.68, 139.69)];

    private string Base => cluster.Http.BaseAddress!.ToString().TrimEnd('/');

    [Fact]
    public async Task The_fleet_page_maps_and_lists_every_node_of_the_running_silo_and_a_nodes_page_shows_and_follows_its_metrics()
    {
        var nodes = await Fleet(count: 6);
        var (page, errors) = await browser.NewPage(Base);

        await page.GotoAsync("/explorer");
        foreach (var node in nodes)
        {
            await Expect(page.Locator($"#node-list tr[data-node='{node.Id}']")).ToBeVisibleAsync(new() { Timeout = Timeout });
        }

        foreach (var (region, _, _) in Places)
        {
            await Expect(page.Locator("#regions")).ToContainTextAsync(region);
        }

        Assert.True(await page.Locator("svg.map circle.online").CountAsync() >= nodes.Length);
        await Expect(page.Locator($"#node-list tr[data-node='{nodes[0].Id}']")).ToContainTextAsync("online");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Browser.Screenshots, "fleet.png"), FullPage = true });

        // A node's page: its telemetry as sent (CPU 50 %, one GPU at 50 % and 60 °C), its events, its accounts.
        await page.Locator($"#node-list a:text-is('{nodes[0].Id}')").ClickAsync();
        var metrics = page.Locator("#node-metrics");
        await Expect(metrics).ToContainTextAsync("CPU50.0 %", new() { Timeout = Timeout });
        await Expect(metrics).ToContainTextAsync("GPU temperature60 °C");
        await Expect(page.Locator("#node-events")).ToContainTextAsync("current status");
        await Expect(page.Locator("#node-earnings")).ToContainTextAsync("provider");

        // Live: the next batch moves the node's smoothed figures, and the page shows what the API now says, unreloaded.
        (await nodes[0].Send(cluster.Http, nodes[0].Batch(2, DateTimeOffset.UtcNow, cpu: 0.9))).EnsureSuccessStatusCode();
        var after = await cluster.NodeWhen(nodes[0].Id, n => n.Telemetry.Samples == 2, "the second batch applied");
        await Expect(metrics).ToContainTextAsync(
            $"CPU{(100 * after.Telemetry.CpuUtilization).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} %", new() { Timeout = Timeout });
        await Expect(metrics).ToContainTextAsync("Samples2");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Browser.Screenshots, "node.png"), FullPage = true });

        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_datasets_page_proves_each_new_tree_head_consistent_with_the_last_one_in_the_browser()
    {
        var contributor = (await Fleet(count: 1))[0];
        var jobs = new JobApi(cluster.Http);
        var name = JobApi.Unique("explorer").ToLowerInvariant();
        var definition = await File.ReadAllBytesAsync(Path.Combine(Repository.Root, "data", "weather", "dataset.json"));
        (await jobs.SendRaw(HttpMethod.Put, $"/v1/datasets/{name}", Http.OperatorKey, definition)).EnsureSuccessStatusCode();
        await Contribute(contributor, name, day: 1);
        var first = (await cluster.Http.Find<DatasetInfo>($"/v1/datasets/{name}"))!.TreeHead;
        var (page, errors) = await browser.NewPage(Base);

        await page.GotoAsync("/explorer");
        await page.FillAsync("#dataset-name", name);
        await page.PressAsync("#dataset-name", "Enter");
        await Expect(page.Locator("#tree-head")).ToContainTextAsync("Records1", new() { Timeout = Timeout });

        // Two more records: the page fetches the consistency proof from 1 to 3 (or through 2) and checks it itself.
        await Contribute(contributor, name, day: 2);
        await Contribute(contributor, name, day: 3);
        await Expect(page.Locator("#tree-head")).ToContainTextAsync("Records3", new() { Timeout = Timeout });
        await Expect(page.Locator("#proofs li.ok")).Not.ToHaveCountAsync(0, new() { Timeout = Timeout });
        Assert.Equal(0, await page.Locator("#proofs li.bad").CountAsync());

        // The page's checker itself: the real proof from 1 to 3 holds; a changed root or a changed hash does not.
        var last = (await cluster.Http.Find<DatasetInfo>($"/v1/datasets/{name}"))!.TreeHead;
        var proof = (await cluster.Http.Find<MerkleProofView>($"/v1/datasets/{name}/proofs/consistency?first=1&second=3"))!;
        var hashes = proof.Hashes.ToArray();
        Assert.True(await Consistent(page, first.Root, last.Root, hashes));
        Assert.False(await Consistent(page, Flipped(first.Root), last.Root, hashes));
        Assert.False(await Consistent(page, first.Root, Flipped(last.Root), hashes));
        Assert.False(await Consistent(page, first.Root, last.Root, [.. hashes.Select(Flipped)]));
        await page.ScreenshotAsync(new() { Path = Path.Combine(Browser.Screenshots, "dataset.png"), FullPage = true });

        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_tenant_sees_its_jobs_with_their_key_and_nothing_without_it()
    {
        await Fleet(count: 1);
        var jobs = new JobApi(cluster.Http);
        var key = await jobs.NewTenant();
        var id = JobApi.Unique("shown");
        (await jobs.Send(HttpMethod.Put, $"/v1/jobs/{id}", key, TestJob.Spec(replicas: 1, cpuCores: 1) with
        {
            Constraints = JobConstraints.None with { Regions = [Places[0].Region] },
        })).EnsureSuccessStatusCode();
        var (page, errors) = await browser.NewPage(Base);

        await page.GotoAsync("/explorer#/jobs");
        await Expect(page.Locator("#job-list")).ToContainTextAsync("Enter a tenant's API key");
        await page.FillAsync("#api-key", key);
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("#job-list")).ToContainTextAsync(id, new() { Timeout = Timeout });

        await page.ClickAsync($"#job-list a:text-is('{id}')");
        await Expect(page.Locator("h1")).ToContainTextAsync(id);
        await Expect(page.Locator("main")).ToContainTextAsync("Replica", new() { Timeout = Timeout });
        await page.ScreenshotAsync(new() { Path = Path.Combine(Browser.Screenshots, "job.png"), FullPage = true });

        Assert.Empty(errors);
    }

    [Fact]
    public async Task The_page_is_served_with_a_policy_that_lets_it_load_only_from_the_silo_and_unknown_files_and_nodes_are_problems()
    {
        using var page = await cluster.Http.GetAsync("/explorer");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("default-src 'none'; script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

        using var missing = await cluster.Http.GetAsync("/explorer/secrets.txt");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var problem = System.Text.Json.JsonDocument.Parse(await missing.Content.ReadAsStringAsync());
        Assert.Equal("urn:depin:problem:unknown-file", problem.RootElement.GetProperty("type").GetString());

        // The two node routes the page reads besides the listing answer an unknown node as the node route does.
        foreach (var path in new[] { "/v1/nodes/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/accounts", "/v1/nodes/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/events", "/v1/nodes/not-an-id/events" })
        {
            using var unknown = await cluster.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            using var body = System.Text.Json.JsonDocument.Parse(await unknown.Content.ReadAsStringAsync());
            Assert.Equal("urn:depin:problem:unknown-node", body.RootElement.GetProperty("type").GetString());
        }
    }

    private static Task<bool> Consistent(IPage page, string firstRoot, string lastRoot, string[] hashes) =>
        page.EvaluateAsync<bool>(
            "async ([a, b, hashes]) => (await import('/explorer/explorer.js')).consistent(1, 3, a, b, hashes)",
            new object[] { firstRoot, lastRoot, hashes });

    private static string Flipped(string hex) => (hex[0] == '0' ? "1" : "0") + hex[1..];

    private static float Timeout => (float)Patience.TotalMilliseconds;

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    /// <summary>Registers <paramref name="count"/> nodes spread over three regions, each online with one batch at CPU 50 %.</summary>
    private async Task<TestNode[]> Fleet(int count)
    {
        var now = DateTimeOffset.UtcNow;
        var nodes = Enumerable.Range(0, count).Select(i =>
        {
            var (region, latitude, longitude) = Places[i % Places.Length];
            var node = TestNode.Create(region);
            return (node, node.Capabilities with { Latitude = latitude + i, Longitude = longitude + i });
        }).ToArray();
        foreach (var (node, capabilities) in nodes)
        {
            (await node.Register(cluster.Http, now, capabilities)).EnsureSuccessStatusCode();
            (await node.Send(cluster.Http, node.Batch(1, now))).EnsureSuccessStatusCode();
            await cluster.NodeWhen(node.Id, n => n.Status == NodeStatus.Online, "the node online");
        }

        return [.. nodes.Select(n => n.node)];
    }

    private async Task Contribute(TestNode node, string dataset, int day)
    {
        var reading = new Contribution(dataset, node.Id, "weather-station", new DateTimeOffset(2013, 1, day, 0, 0, 0, TimeSpan.Zero),
            52.37, 4.90, "test", new Dictionary<string, FieldValue>
            {
                ["precipitation"] = FieldValue.Of(0.1 * day), ["temp_max"] = FieldValue.Of(10 + day),
                ["temp_min"] = FieldValue.Of(day), ["wind"] = FieldValue.Of(3), ["weather"] = FieldValue.Of("rain"),
            });
        using var response = await cluster.Http.PostAsJsonAsync($"/v1/datasets/{dataset}/contributions", ContributionRequest.Sign(reading, node.Signer), ApiJson.Options);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}
