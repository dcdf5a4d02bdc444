using System.Diagnostics.Metrics;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.Core.Identity;
using DePIN.NodeAgent.Platform;
using DePIN.NodeAgent.Sampling;
using DePIN.NodeAgent.Work;

namespace DePIN.NodeAgent;

/// <summary>
/// One node: register, then every interval take a sample, sign a batch and post it, while its <see cref="WorkRunner"/>
/// runs the work the platform gives it. Samples that could not be delivered stay buffered (up to
/// <see cref="MaxBufferedSamples"/>) and go with the next batch. Every accepted batch renews the work lease.
/// </summary>
public sealed partial class NodeRunner(
    NodeSigner signer, ITelemetrySource source, PlatformApi api, TimeProvider time, TimeSpan interval,
    SemaphoreSlim cores, AgentMetrics metrics, ILogger logger)
{
    public const int MaxBufferedSamples = 120;

    /// <summary>Fault events kept for delivery at most (the platform takes 64 a batch; newer ones win).</summary>
    public const int MaxBufferedFaults = 64;

    /// <summary>The lease in telemetry intervals: the platform declares a node offline after six silent ones.</summary>
    public const int LeaseIntervals = 4;

    private readonly Queue<TelemetrySample> _pending = new();
    private readonly List<FaultReport> _faults = [];
    private double? _roundTripMs;
    private readonly Lease _lease = new(time, interval * LeaseIntervals);
    private long _sequence;

    public string NodeId => signer.NodeId;

    /// <summary>Registers, then reports and works, and runs <paramref name="duty"/> (if any) alongside, until cancelled.</summary>
    public async Task Run(TimeSpan startDelay, CancellationToken cancellationToken, Func<CancellationToken, Task>? duty = null)
    {
        if (startDelay > TimeSpan.Zero)
        {
            await Task.Delay(startDelay, time, cancellationToken);
        }

        await RegisterUntilAccepted(cancellationToken);
        await Task.WhenAll(
            Report(cancellationToken),
            new WorkRunner(signer, api, time, _lease, cores, logger).Run(cancellationToken),
            duty?.Invoke(cancellationToken) ?? Task.CompletedTask);
    }

    private async Task Report(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            var now = time.GetUtcNow();
            var sample = source.Sample(now);
            _pending.Enqueue(_roundTripMs is { } rtt ? sample with { LatencyMs = rtt } : sample);
            while (_pending.Count > MaxBufferedSamples)
            {
                _pending.Dequeue();
            }

            _faults.AddRange(source.TakeFaults());
            if (_faults.Count > MaxBufferedFaults)
            {
                _faults.RemoveRange(0, _faults.Count - MaxBufferedFaults);
            }

            var batch = new TelemetryBatch(signer.NodeId, NextSequence(now), now, [.. _pending], _faults.Count > 0 ? [.. _faults] : null);
            var sent = time.GetTimestamp();
            var delivery = await api.SendTelemetry(signer, batch, cancellationToken);
            metrics.Sent(delivery);
            switch (delivery)
            {
                case Delivery.Accepted:
                    // The round trip to the platform is the node's latency, reported with the next sample.
                    _roundTripMs = Math.Round(time.GetElapsedTime(sent).TotalMilliseconds, 1);
                    _lease.Renew();
                    _pending.Clear();
                    _faults.Clear();
                    break;
                case Delivery.Refused: // this body will never be taken; keep sampling
                    _pending.Clear();
                    _faults.Clear();
                    break;
                case Delivery.UnknownNode: // the platform lost or never had the registration
                    await RegisterUntilAccepted(cancellationToken);
                    break;
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
    }

    // Strictly increasing across restarts without a state file: never below the wall clock in milliseconds.
    private long NextSequence(DateTimeOffset now) => _sequence = Math.Max(_sequence + 1, now.ToUnixTimeMilliseconds());

    private async Task RegisterUntilAccepted(CancellationToken cancellationToken)
    {
        var backoff = new Backoff(time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        while (true)
        {
            var registration = new NodeRegistration(signer.PublicKey, source.Capabilities, time.GetUtcNow(), signer.NodeId);
            switch (await api.Register(signer, registration, cancellationToken))
            {
                case Delivery.Accepted:
                    LogRegistered(signer.NodeId, source.Capabilities.Region);
                    return;
                case Delivery.Refused:
                    throw new InvalidOperationException(
                        $"The platform refused node {signer.NodeId}'s registration; see the logged problem details.");
            }

            await backoff.Wait(cancellationToken);
        }
    }

    [LoggerMessage(LogLevel.Information, "Node {NodeId} registered in {Region}")]
    private partial void LogRegistered(string nodeId, string region);
}

/// <summary>The agent's instruments on the <c>DePIN</c> meter.</summary>
public sealed class AgentMetrics
{
    private readonly Counter<long> _batches;
    private readonly Counter<long> _contributions;

    public AgentMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Microsoft.Extensions.Hosting.Extensions.DePINMeter);
        _batches = meter.CreateCounter<long>("depin.agent.batches", description: "Telemetry batches the agent posted, by outcome.");
        _contributions = meter.CreateCounter<long>("depin.agent.contributions", description: "Dataset contributions the agent posted, by outcome.");
    }

    public void Sent(Delivery delivery) =>
        _batches.Add(1, new KeyValuePair<string, object?>("result", delivery.ToString().ToLowerInvariant()));

    public void Contributed(Contributed outcome) =>
        _contributions.Add(1, new KeyValuePair<string, object?>("result", outcome.ToString().ToLowerInvariant()));
}
