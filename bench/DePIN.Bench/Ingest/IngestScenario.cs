using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using DePIN.Abstractions.Nodes;
using DePIN.Bench.Crypto;
using DePIN.Core.Identity;

namespace DePIN.Bench.Ingest;

/// <param name="Rate">Batches a second to offer (0: as many as the silo takes).</param>
/// <param name="Window">Seconds per reported window of a long run (a soak): p99 lag, rate and RSS for each.</param>
/// <param name="Relay">Batches per request: 1 posts each node's batch on its own; more sends them relayed, many nodes'
/// signed batches in one request to <c>/v1/telemetry</c>, as an agent of several nodes or a site's gateway does.</param>
public sealed record IngestSettings(int Nodes, int Seconds, int Connections, string? Postgres, double Rate = 0, int Window = 300, int Relay = 1);

/// <summary>
/// Telemetry ingestion end to end: signed batches over real HTTP into a local silo (signature check, node grain,
/// journal), load generator in the same process on the same cores. Baseline in the same run: raw grain calls on the
/// same silo. Lag is measured by the grains themselves (sample time to journaled and applied), through the DePIN meter.
/// </summary>
public static class IngestScenario
{
    private static readonly TimeSpan MinWarmUp = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(60);

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

        var load = new LoadGenerator(new IPEndPoint(IPAddress.Loopback, port), nodes, settings.Connections, settings.Rate, settings.Relay);
        var warmUp = await WarmUp(load);
        progress.WriteLine($"warmed up for {warmUp.TotalSeconds:0} s (until the JIT settled)");

        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var postgresBefore = settings.Postgres is null ? TimeSpan.Zero : PostgresCpu();
        var rssStart = Rss(process);
        var windows = new JsonArray();
        long accepted = 0, refused = 0;
        var elapsed = TimeSpan.Zero;
        GrainMeter.Result? ingest = null;
        for (var left = settings.Seconds; left > 0; left -= settings.Window)
        {
            meter.Start();
            var window = await load.Run(TimeSpan.FromSeconds(Math.Min(left, settings.Window)));
            var part = meter.Stop();
            accepted += window.Accepted;
            refused += window.Refused;
            elapsed += window.Elapsed;
            if (ingest is null)
            {
                ingest = part;
            }
            else
            {
                ingest.Seconds.Add(part.Seconds);
                ingest = ingest with { Count = ingest.Count + part.Count };
            }

            if (settings.Seconds > settings.Window)
            {
                windows.Add(new JsonObject
                {
                    ["end_s"] = Math.Round(elapsed.TotalSeconds),
                    ["batches_per_s"] = Math.Round(part.Count / window.Elapsed.TotalSeconds, 1),
                    ["p99_lag_ms"] = Math.Round(part.Milliseconds(99), 2),
                    ["rss_mb"] = Rss(process),
                });
                progress.WriteLine(windows[^1]!.ToJsonString());
            }
        }

        var all = ingest ?? throw new ArgumentException("--seconds must be positive.");
        process.Refresh();
        var rssEnd = Rss(process);
        var cpuPerBatch = (process.TotalProcessorTime - cpuBefore).TotalMicroseconds / Math.Max(1, all.Count);
        double? postgresPerBatch = settings.Postgres is null ? null : (PostgresCpu() - postgresBefore).TotalMicroseconds / Math.Max(1, all.Count);
        var seconds = elapsed.TotalSeconds;
        var batchesPerSecond = all.Count / seconds;
        progress.WriteLine($"ingest: {accepted} accepted over HTTP, {refused} refused, {all.Count} applied by grains in {seconds:0.0} s");

        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        var baseline = await GrainCalls(grains, nodes, settings.Connections, TimeSpan.FromSeconds(Math.Min(10, settings.Seconds)));
        progress.WriteLine($"baseline: {baseline:0} grain calls/s");

        await silo.StopAsync();
        var crypto = CryptoMicroseconds(nodes[0]);
        progress.WriteLine($"crypto: {crypto:0.0} µs to sign and verify a batch on one core");
        var result = new JsonObject
        {
            ["scenario"] = "ingest",
            ["nodes"] = settings.Nodes,
            ["telemetry_batches_per_s"] = Math.Round(batchesPerSecond, 1),
            ["p50_lag_ms"] = Math.Round(all.Milliseconds(50), 2),
            ["p99_lag_ms"] = Math.Round(all.Milliseconds(99), 2),
            ["grain_calls_per_s"] = Math.Round(baseline, 1),
            ["ratio"] = Math.Round(batchesPerSecond / baseline, 4),
            ["http_accepted_per_s"] = Math.Round(accepted / seconds, 1),
            ["http_refused"] = refused,
            ["cpu_us_per_batch"] = Math.Round(cpuPerBatch, 1),
            ["crypto_us_per_batch"] = Math.Round(crypto, 1),
            ["overhead_ratio"] = Math.Round(cpuPerBatch / crypto, 2),
            ["postgres_cpu_us_per_batch"] = postgresPerBatch is { } pg ? Math.Round(pg, 1) : null,
            ["overhead_ratio_with_postgres"] = postgresPerBatch is { } withPg ? Math.Round((cpuPerBatch + withPg) / crypto, 2) : null,
            ["rss_start_mb"] = rssStart,
            ["rss_end_mb"] = rssEnd,
            ["offered_per_s"] = settings.Rate > 0 ? settings.Rate : null,
            ["seconds"] = settings.Seconds,
            ["warmup_s"] = Math.Round(warmUp.TotalSeconds),
            ["connections"] = settings.Connections,
            ["batches_per_request"] = settings.Relay,
            ["storage"] = settings.Postgres is null ? "memory" : "postgresql",
        };
        if (windows.Count > 0)
        {
            result["windows"] = windows;
        }

        return result;
    }

    /// <summary>
    /// Load until the JIT has settled: tiered compilation keeps recompiling hot methods for tens of seconds, and that
    /// work is no part of a batch's cost in a silo that runs for days. At least 5 s, then seconds of load until one
    /// spends under 1 % of it compiling.
    /// </summary>
    private static async Task<TimeSpan> WarmUp(LoadGenerator load)
    {
        var clock = Stopwatch.StartNew();
        await load.Run(MinWarmUp);
        while (clock.Elapsed < MaxWarmUp)
        {
            var compiling = System.Runtime.JitInfo.GetCompilationTime();
            var second = await load.Run(TimeSpan.FromSeconds(1));
            if (System.Runtime.JitInfo.GetCompilationTime() - compiling < second.Elapsed / 100)
            {
                break;
            }
        }

        return clock.Elapsed;
    }

    /// <summary>
    /// CPU time of every PostgreSQL server process on this machine (from /proc; utime + stime in clock ticks of 10 ms):
    /// with <c>--postgres</c> the journal's database works for the batches too, in processes of its own.
    /// </summary>
    private static TimeSpan PostgresCpu()
    {
        long ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                if (name == "postgres")
                {
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                }
            }
            catch (IOException)
            {
                // the process ended meanwhile, or it is not a process directory
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    private static double Rss(Process process)
    {
        process.Refresh();
        return Math.Round(process.WorkingSet64 / 1048576.0, 1);
    }

    /// <summary>
    /// What a batch cannot cost less than: the agent's Ed25519 signature and the silo's verification of the same
    /// bytes, on one core of this machine in this run (the silo stopped), in CPU microseconds per batch as
    /// <c>cpu_us_per_batch</c> is.
    /// </summary>
    private static double CryptoMicroseconds(BenchNode node)
    {
        var body = node.NextBody();
        var key = NodeIdentity.TryImportPublicKey(node.Signer.PublicKey)!;
        return CryptoScenario.Microseconds(40_000, () =>
        {
            if (!NodeIdentity.Verify(key, body, node.Signer.Sign(body)))
            {
                throw new InvalidOperationException("A batch's own signature did not verify.");
            }
        });
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
