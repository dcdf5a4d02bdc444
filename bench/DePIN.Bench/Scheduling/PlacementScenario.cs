using System.Diagnostics;
using System.Text.Json.Nodes;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Economy;
using DePIN.Grains.Directory;

namespace DePIN.Bench.Scheduling;

/// <summary>Settings of <c>placement</c>.</summary>
public sealed record PlacementSettings(int Nodes, int Seconds, int Concurrency);

/// <summary>
/// Placement through the grains: jobs submitted to job grains on an in-process silo are queued with the scheduler
/// grain, which places them on a directory of online nodes with its policy. Measures placements per second and the
/// time from queueing to placement (the scheduler's own histogram). Baseline in the same run: the same load with
/// the first-fit policy, which scores nothing.
/// </summary>
public static class PlacementScenario
{
    private static readonly string[] Regions = ["us-east", "us-west", "eu-west", "eu-central", "ap-south", "ap-northeast"];

    public static Func<Task<JsonObject>> Prepare(PlacementSettings settings, TextWriter log) => () => Run(settings, log);

    private static async Task<JsonObject> Run(PlacementSettings settings, TextWriter log)
    {
        var baseline = await Measure("first_fit", settings, log);
        var candidate = await Measure("predictive", settings, log);
        return new JsonObject
        {
            ["scenario"] = "placement",
            ["nodes"] = settings.Nodes,
            ["placements_per_s"] = candidate["placements_per_s"]!.DeepClone(),
            ["p50_ms"] = candidate["p50_ms"]!.DeepClone(),
            ["p99_ms"] = candidate["p99_ms"]!.DeepClone(),
            ["policy"] = "predictive",
            ["baseline"] = baseline,
            ["ratio"] = Math.Round((double)candidate["placements_per_s"]! / (double)baseline["placements_per_s"]!, 3),
            ["seconds"] = settings.Seconds,
            ["concurrency"] = settings.Concurrency,
        };
    }

    private static async Task<JsonObject> Measure(string policy, PlacementSettings settings, TextWriter log)
    {
        var (silo, _) = await BenchSilo.Start(null, "--Scheduler:Policy", policy, "--Logging:LogLevel:DePIN.Grains.Jobs", "Warning");
        await using var _ = silo;
        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        var clock = Stopwatch.StartNew();
        await Populate(grains, settings.Nodes);
        await Fund(grains);
        log.WriteLine($"{policy}: {settings.Nodes} nodes in the directory in {clock.Elapsed.TotalSeconds:0.0} s");

        using var meter = new GrainMeter("depin.placements", "depin.placement.latency", ("outcome", "placed"));
        var submitted = 0;
        await Submit(grains, $"warm-{policy}", 500, settings.Concurrency, TimeSpan.FromSeconds(30), () => submitted++);
        await Task.Delay(TimeSpan.FromSeconds(2));

        meter.Start();
        clock.Restart();
        var count = 0;
        await Submit(grains, policy, int.MaxValue, settings.Concurrency, TimeSpan.FromSeconds(settings.Seconds), () => Interlocked.Increment(ref count));
        var window = clock.Elapsed.TotalSeconds;
        var placedInWindow = meter.Stop();

        // Let the queue drain so every job of the window is in the latency histogram.
        meter.Start();
        var drain = Stopwatch.StartNew();
        long drained = 0;
        while (placedInWindow.Count + drained < count && drain.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
            drained = meter.Stop().Count;
            meter.Resume();
        }

        var tail = meter.Stop();
        var latency = placedInWindow.Seconds.Copy();
        latency.Add(tail.Seconds);
        log.WriteLine($"{policy}: {count} submitted in {window:0.0} s, {placedInWindow.Count} placed in the window, {tail.Count} after it");
        return new JsonObject
        {
            ["policy"] = policy,
            ["placements_per_s"] = Math.Round(placedInWindow.Count / window, 1),
            ["submitted_per_s"] = Math.Round(count / window, 1),
            ["p50_ms"] = Math.Round(latency.GetValueAtPercentile(50) / 1000.0, 2),
            ["p99_ms"] = Math.Round(latency.GetValueAtPercentile(99) / 1000.0, 2),
        };
    }

    /// <summary>The 16 tenants' accounts, with funds for every job's escrow.</summary>
    private static async Task Fund(IGrainFactory grains)
    {
        var ledger = grains.GetGrain<ILedgerGrain>(0);
        var tenants = Enumerable.Range(0, 16).Select(i => AccountId.Tenant($"tenant-{i}")).ToArray();
        await ledger.Open(tenants);
        await ledger.PostMany([.. tenants.Select(t => new PostingRequest($"fund:{t}", PostingKinds.Deposit,
            [new LedgerEntry(AccountId.External, Debit: PostingRules.MaxAmount / 16), new LedgerEntry(t, Credit: PostingRules.MaxAmount / 16)]))]);
    }

    /// <summary>Online nodes straight into the directory shards, as node grains would put them there.</summary>
    private static async Task Populate(IGrainFactory grains, int nodes)
    {
        var random = new Random(1);
        var since = DateTimeOffset.UtcNow;
        foreach (var region in Regions)
        {
            await grains.GetGrain<IRegionCatalogGrain>(0).Add(region);
        }

        var summaries = Enumerable.Range(0, nodes).Select(i =>
        {
            var gpus = random.Next(0, 3) * 4;
            return new NodeSummary($"bench{i:D6}", NodeStatus.Online, Regions[i % Regions.Length], 16, 64L << 30, gpus,
                gpus * (24L << 30), 50, 5, "bench", since.AddHours(-random.NextDouble() * 72));
        });
        await Parallel.ForEachAsync(summaries, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (node, _) =>
            await grains.GetGrain<INodeDirectoryGrain>(NodeDirectory.ShardKey(node.Region, node.NodeId)).Upsert(node));
    }

    /// <summary>Submits one-core batch jobs from <paramref name="concurrency"/> loops, over 16 tenants.</summary>
    private static async Task Submit(IGrainFactory grains, string prefix, int jobs, int concurrency, TimeSpan duration, Action submitted)
    {
        var spec = new JobSpec(JobKind.Batch, new ReplicaResources(1, 1L << 30, 0, 0), 1, JobConstraints.None, 10, 300, 60,
            new VerificationPolicy(1, false), 1m, new BatchWork(1, 1_000_000));
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < jobs && clock.Elapsed < duration)
            {
                await grains.GetGrain<IJobGrain>(JobKey.For($"tenant-{i % 16}", $"{prefix}-{i}")).Submit(spec);
                submitted();
            }
        }));
    }
}
