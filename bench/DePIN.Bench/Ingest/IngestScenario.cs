using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using DePIN.Abstractions.Nodes;

namespace DePIN.Bench.Ingest;

public sealed record IngestSettings(int Nodes, int Seconds, int Connections, string? Postgres);

/// <summary>
/// Telemetry ingestion end to end: signed batches over real HTTP into a local silo (signature check, stream, node
/// grain), load generator in the same process on the same cores. Baseline in the same run: raw grain calls on the
/// same silo. Lag is measured by the grains themselves (sample time to grain), through the DePIN meter.
/// </summary>
public static class IngestScenario
{
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(5);

    public static Func<Task<JsonObject>> Prepare(IngestSettings settings, TextWriter progress) => () => Run(settings, progress);

    private static async Task<JsonObject> Run(IngestSettings settings, TextWriter progress)
    {
        var (silo, port) = await BenchSilo.Start(settings.Postgres);
        await using var _ = silo;
        var url = new Uri($"http://127.0.0.1:{port}");
        using var meter = new GrainMeter("depin.telemetry.batches", "depin.telemetry.lag");
        using var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = settings.Connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        })
        { BaseAddress = url };

        var nodes = Enumerable.Range(0, settings.Nodes).Select(i => BenchNode.Create(i)).ToArray();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(nodes, new ParallelOptions { MaxDegreeOfParallelism = settings.Connections },
            async (node, cancellationToken) => await node.Register(http, cancellationToken));
        progress.WriteLine($"registered {nodes.Length} nodes in {clock.Elapsed.TotalSeconds:0.0} s");

        var load = new LoadGenerator(new IPEndPoint(IPAddress.Loopback, port), nodes, settings.Connections);
        await load.Run(WarmUp);
        progress.WriteLine($"warmed up for {WarmUp.TotalSeconds:0} s");

        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        meter.Start();
        var window = await load.Run(TimeSpan.FromSeconds(settings.Seconds));
        var ingest = meter.Stop();
        process.Refresh();
        var cpuPerBatch = (process.TotalProcessorTime - cpuBefore).TotalMicroseconds / Math.Max(1, ingest.Count);
        var seconds = window.Elapsed.TotalSeconds;
        var batchesPerSecond = ingest.Count / seconds;
        progress.WriteLine($"ingest: {window.Accepted} accepted over HTTP, {window.Refused} refused, {ingest.Count} applied by grains in {seconds:0.0} s");

        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        var baseline = await GrainCalls(grains, nodes, settings.Connections, TimeSpan.FromSeconds(Math.Min(10, settings.Seconds)));
        progress.WriteLine($"baseline: {baseline:0} grain calls/s");

        await silo.StopAsync();
        return new JsonObject
        {
            ["scenario"] = "ingest",
            ["nodes"] = settings.Nodes,
            ["telemetry_batches_per_s"] = Math.Round(batchesPerSecond, 1),
            ["p50_lag_ms"] = Math.Round(ingest.Milliseconds(50), 2),
            ["p99_lag_ms"] = Math.Round(ingest.Milliseconds(99), 2),
            ["grain_calls_per_s"] = Math.Round(baseline, 1),
            ["ratio"] = Math.Round(batchesPerSecond / baseline, 4),
            ["http_accepted_per_s"] = Math.Round(window.Accepted / seconds, 1),
            ["http_refused"] = window.Refused,
            ["cpu_us_per_batch"] = Math.Round(cpuPerBatch, 1),
            ["seconds"] = settings.Seconds,
            ["connections"] = settings.Connections,
            ["storage"] = settings.Postgres is null ? "memory" : "postgresql",
        };
    }

    // The same silo, the same grains, the same concurrency: a read-only call per request instead of a batch.
    private static async Task<double> GrainCalls(IGrainFactory grains, BenchNode[] nodes, int concurrency, TimeSpan duration)
    {
        var references = nodes.Select(n => grains.GetGrain<INodeGrain>(n.Id)).ToArray();
        long calls = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            long mine = 0;
            for (var i = worker; clock.Elapsed < duration; i += concurrency)
            {
                await references[i % references.Length].GetPublicKey();
                mine++;
            }

            Interlocked.Add(ref calls, mine);
        }));
        return calls / clock.Elapsed.TotalSeconds;
    }
}
