using DePIN.NodeAgent.Identity;
using DePIN.NodeAgent.Platform;
using DePIN.NodeAgent.Sampling;
using DePIN.NodeAgent.Simulation;
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
        List<NodeRunner> runners;
        if (o.Simulate > 0)
        {
            runners = [.. Enumerable.Range(0, o.Simulate).Select(i => new NodeRunner(
                KeyStore.LoadOrCreate(Path.Combine(o.KeyDirectory, $"node-{i:D5}.key"), logger),
                new SimulatedHost(i, o.Seed), api, time, o.Interval, cores, metrics, logger))];
            LogFleet(o.Simulate, o.Api!, o.KeyDirectory);
        }
        else
        {
            runners = [new NodeRunner(KeyStore.LoadOrCreate(o.KeyFile, logger), new HostSampler(o), api, time, o.Interval, cores, metrics, logger)];
            LogRealNode(runners[0].NodeId, o.Api!);
        }

        // Spread the fleet over the interval rather than posting in lockstep.
        await Task.WhenAll(runners.Select((runner, i) => runner.Run(o.Interval * i / runners.Count, stoppingToken)));
    }

    [LoggerMessage(LogLevel.Information, "Simulating {Count} nodes against {Api}; keys in {KeyDirectory}")]
    private partial void LogFleet(int count, Uri api, string keyDirectory);

    [LoggerMessage(LogLevel.Information, "Reporting this machine as node {NodeId} to {Api}")]
    private partial void LogRealNode(string nodeId, Uri api);
}
