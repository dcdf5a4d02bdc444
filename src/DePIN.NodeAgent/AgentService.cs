using DePIN.NodeAgent.Identity;
using DePIN.NodeAgent.Platform;
using DePIN.NodeAgent.Sampling;
using DePIN.NodeAgent.Simulation;
using DePIN.NodeAgent.Weather;
using DePIN.Simulation.Weather;
using Microsoft.Extensions.Options;

namespace DePIN.NodeAgent;

/// <summary>Runs the real node, or a simulated fleet of <see cref="AgentOptions.Simulate"/> nodes, until stopped.</summary>
public sealed partial class AgentService(
    IOptions<AgentOptions> options, PlatformApi api, AgentMetrics metrics, ILogger<AgentService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var time = TimeProvider.System;
        using var cores = new SemaphoreSlim(o.MaxParallelWork);
        List<(NodeRunner Runner, Func<CancellationToken, Task>? Duty)> nodes;
        using var kernel = o.Simulate > 0 ? null : KernelLog.Watch(time, logger);
        if (o.Simulate > 0)
        {
            nodes = [.. Enumerable.Range(0, o.Simulate).Select(i => (Runner(Path.Combine(o.KeyDirectory, $"node-{i:D5}.key"), new SimulatedHost(i, o.Seed)),
                (Func<CancellationToken, Task>?)null))];
            LogFleet(o.Simulate, o.Api!, o.KeyDirectory);
            if (o.Weather is { } archive)
            {
                nodes.AddRange(WeatherStations(archive));
            }
        }
        else
        {
            nodes = [(Runner(o.KeyFile, new HostSampler(o, kernel)), null)];
            LogRealNode(nodes[0].Runner.NodeId, o.Api!);
        }

        // Spread the fleet over the interval rather than posting in lockstep.
        await Task.WhenAll(nodes.Select((node, i) => node.Runner.Run(o.Interval * i / nodes.Count, stoppingToken, node.Duty)));

        NodeRunner Runner(string keyFile, ITelemetrySource source) =>
            new(KeyStore.LoadOrCreate(keyFile, logger), source, api, time, o.Interval, cores, metrics, logger);

        IEnumerable<(NodeRunner, Func<CancellationToken, Task>?)> WeatherStations(string archive)
        {
            var stations = WeatherArchive.Read(archive);
            LogStations(stations.Count, stations.Sum(s => s.Readings.Count), archive, o.WeatherDataset);
            foreach (var (station, i) in stations.Select((s, i) => (s, i)))
            {
                var signer = KeyStore.LoadOrCreate(Path.Combine(o.KeyDirectory, $"station-{station.Slug}.key"), logger);
                var runner = new NodeRunner(signer, SimulatedHost.SensorGateway(i, station.Region, station.Latitude, station.Longitude, o.Seed),
                    api, time, o.Interval, cores, metrics, logger);
                var contributor = new StationContributor(station, signer, o.WeatherDataset, o.WeatherRate, api, time, metrics, logger);
                yield return (runner, ct => contributor.Run(HostSampler.AgentVersion, ct));
            }
        }
    }

    [LoggerMessage(LogLevel.Information, "Adding {Count} weather stations with {Readings} readings from {Archive}, for dataset {Dataset}")]
    private partial void LogStations(int count, int readings, string archive, string dataset);

    [LoggerMessage(LogLevel.Information, "Simulating {Count} nodes against {Api}; keys in {KeyDirectory}")]
    private partial void LogFleet(int count, Uri api, string keyDirectory);

    [LoggerMessage(LogLevel.Information, "Reporting this machine as node {NodeId} to {Api}")]
    private partial void LogRealNode(string nodeId, Uri api);
}
