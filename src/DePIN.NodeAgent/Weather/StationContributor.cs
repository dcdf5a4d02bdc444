using DePIN.Abstractions.Datasets;
using DePIN.Core.Identity;
using DePIN.NodeAgent.Platform;
using DePIN.NodeAgent.Work;
using DePIN.Simulation.Weather;

namespace DePIN.NodeAgent.Weather;

/// <summary>
/// A weather station's uploads: each of its readings, oldest first, signed by the station's node key and posted to
/// the dataset at most <c>rate</c> a second. A reading the platform did not take for certain (network, 5xx, no such
/// dataset yet) is sent again with backoff, byte for byte: Ed25519 signatures are deterministic and the platform
/// answers a repeat with the first receipt, so a restarted station goes through its archive again harmlessly.
/// </summary>
public sealed partial class StationContributor(
    WeatherStation station, NodeSigner signer, string dataset, double rate, PlatformApi api, TimeProvider time,
    AgentMetrics metrics, ILogger logger)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    public async Task Run(string agentVersion, CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromSeconds(1 / rate);
        var due = time.GetTimestamp();
        int added = 0, repeated = 0, refused = 0;
        foreach (var reading in station.Readings)
        {
            if (time.GetElapsedTime(time.GetTimestamp(), due) is { Ticks: > 0 } wait)
            {
                await Task.Delay(wait, time, cancellationToken);
            }

            due += (long)(period.TotalSeconds * time.TimestampFrequency);
            var request = ContributionRequest.Sign(station.Record(reading, dataset, signer.NodeId, agentVersion), signer);
            var backoff = new Backoff(time, TimeSpan.FromSeconds(1), MaxBackoff);
            while (true)
            {
                var outcome = await api.Contribute(dataset, request, cancellationToken);
                metrics.Contributed(outcome);
                if (outcome is Contributed.New or Contributed.Repeat or Contributed.Refused)
                {
                    _ = outcome switch
                    {
                        Contributed.New => ++added,
                        Contributed.Repeat => ++repeated,
                        _ => ++refused,
                    };
                    break;
                }

                await backoff.Wait(cancellationToken);
                due = time.GetTimestamp();
            }
        }

        LogDone(station.Location, signer.NodeId, dataset, station.Readings.Count, added, repeated, refused);
    }

    [LoggerMessage(LogLevel.Information,
        "Weather station {Location} (node {NodeId}) went through its {Count} readings for dataset {Dataset}: {Added} added, {Repeated} already there, {Refused} refused")]
    private partial void LogDone(string location, string nodeId, string dataset, int count, int added, int repeated, int refused);
}
