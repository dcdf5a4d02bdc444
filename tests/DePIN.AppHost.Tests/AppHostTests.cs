using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using DePIN.Testing;

namespace DePIN.AppHost.Tests;

/// <summary>The AppHost as a developer runs it: PostgreSQL, two silo replicas and a simulated fleet, for real.</summary>
public sealed class AppHostTests : IDisposable
{
    // Alone the whole run takes about a minute. Under `dotnet test --solution` it shares two cores with the silo tests'
    // clusters, and a CI machine once needed more than six minutes to fill the weather dataset: each wait below has
    // ten minutes (and says what it last saw), the run as a whole twelve.
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(12);
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(10);
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"depin-apphost-{Guid.NewGuid():N}");

    [Fact]
    public async Task The_resources_reach_Running_the_fleet_shows_online_in_a_silos_metrics_the_weather_dataset_fills_and_the_demo_trains_and_serves_a_model()
    {
        using var deadline = new CancellationTokenSource(RunTimeout);
        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.DePIN_AppHost>(
        [
            $"--Postgres:Port={Ports.Free()}",
            $"--Postgres:DataDirectory={Path.Combine(_data, "postgres")}",
            $"--Fleet:KeyDirectory={Path.Combine(_data, "fleet-keys")}",
            $"--Demo:StateDirectory={Path.Combine(_data, "demo")}",
            "--Fleet:Nodes=5",
            "--Fleet:WeatherRate=1000",
        ], deadline.Token);
        await using var app = await appHost.BuildAsync(deadline.Token);
        await using var logs = new ResourceLogs(app);
        try
        {
            await app.StartAsync(deadline.Token);
            await RunsTheFleetAndFillsTheWeatherDataset(app, deadline.Token);
            await TrainsAndServesAModelOnTheWeatherSnapshot(app, Path.Combine(_data, "demo"), deadline.Token);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{e.Message}{Environment.NewLine}{logs.Tail()}", e);
        }
    }

    private static async Task RunsTheFleetAndFillsTheWeatherDataset(DistributedApplication app, CancellationToken timeout)
    {
        await app.ResourceNotifications.WaitForResourceHealthyAsync("postgres", timeout);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("silo", timeout);
        await app.ResourceNotifications.WaitForResourceAsync("fleet", KnownResourceStates.Running, timeout);
        await WaitForAllReplicas(app, "silo", 2, timeout);

        // The fleet is the 5 simulated nodes and a weather station for each city of the shipped archive.
        const int fleet = 5 + 2;
        using var silo = app.CreateHttpClient("silo", "http");
        var online = await Wait.Until(
            () => silo.GetFromJsonAsync<JsonElement[]>("/v1/nodes?status=online", timeout),
            nodes => nodes?.Length == fleet, "the 5 simulated nodes and 2 weather stations to be online", StepTimeout);
        Assert.Equal(fleet, online!.Length);

        // The operator's one-shot command created the weather dataset; the stations fill it with the archive.
        await app.ResourceNotifications.WaitForResourceAsync("weather-dataset", KnownResourceStates.Finished, timeout);
        var weather = await Wait.Until(
            () => silo.GetFromJsonAsync<JsonElement>("/v1/datasets/weather", timeout),
            d => d.GetProperty("treeHead").GetProperty("size").GetInt64() == 2922, "the weather dataset to hold the archive's 2,922 readings", StepTimeout);
        Assert.Equal("depin", weather.GetProperty("definition").GetProperty("owner").GetString());

        // Every silo exports depin_nodes for the directory shards it hosts; summed over the replicas it counts the
        // fleet. Scrapes through the proxy reach either replica, told apart by the instance id in target_info.
        var onlineByReplica = new Dictionary<string, double>();
        await Wait.Until(async () =>
        {
            // A new connection per scrape, so the proxy can pick either replica.
            using var scrape = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { ConnectionClose = true } };
            using var response = await silo.SendAsync(scrape, timeout);
            var metrics = await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync(timeout);
            Assert.True(MetricsText.Has(metrics, "depin_nodes"), "a silo's /metrics lacks depin_nodes");
            onlineByReplica[ReplicaOf(metrics)] = MetricsText.Value(metrics, "depin_nodes", ("status", "online"));
            return onlineByReplica.Values.Sum();
        }, total => total == fleet, $"depin_nodes{{status=\"online\"}}, summed over the silo replicas, to be {fleet}", StepTimeout);
    }

    /// <summary>The demo command ran the chain: a model trained on the weather snapshot answered with a verified receipt.</summary>
    private static async Task TrainsAndServesAModelOnTheWeatherSnapshot(DistributedApplication app, string demoState, CancellationToken timeout)
    {
        var finished = await app.ResourceNotifications.WaitForResourceAsync("weather-demo", e => e.Snapshot.State?.Text == KnownResourceStates.Finished, timeout);
        Assert.Equal(0, finished.Snapshot.ExitCode);

        using var silo = app.CreateHttpClient("silo", "http");
        var key = (await File.ReadAllTextAsync(Path.Combine(demoState, "tenant.key"), timeout)).Trim();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/jobs/weather-mlp-2922") { Headers = { Authorization = new("Bearer", key) } };
        using var response = await silo.SendAsync(request, timeout);
        var job = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(timeout);
        var model = await silo.GetFromJsonAsync<JsonElement>($"/v1/models/{job.GetProperty("result").GetString()}", timeout);

        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(("weather", 2922), (model.GetProperty("dataset").GetString(), model.GetProperty("snapshotSize").GetInt64()));
        Assert.True(model.GetProperty("metrics").GetProperty("accuracy").GetDouble() >= 0.8, $"held-out accuracy {model.GetProperty("metrics")}");
    }

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private static string ReplicaOf(string metrics) =>
        Regex.Match(metrics, "service_instance_id=\"([^\"]+)\"") is { Success: true } match
            ? match.Groups[1].Value
            : throw new InvalidOperationException("The scrape has no target_info with a service_instance_id.");

    private static async Task WaitForAllReplicas(DistributedApplication app, string name, int replicas, CancellationToken cancellationToken)
    {
        var running = new HashSet<string>();
        await app.ResourceNotifications.WaitForResourceAsync(name, e =>
        {
            if (e.Snapshot.State?.Text == KnownResourceStates.Running)
            {
                running.Add(e.ResourceId);
            }

            return running.Count >= replicas;
        }, cancellationToken);
    }
}
