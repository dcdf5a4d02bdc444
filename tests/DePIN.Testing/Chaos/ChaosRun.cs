using System.Diagnostics;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;

namespace DePIN.Testing.Chaos;

/// <summary>
/// Issue 17's chaos run: PostgreSQL and silo processes, a simulated fleet, tenants and contributors, silo kills and
/// stops, a PostgreSQL restart and node kills for <see cref="ChaosSettings.Load"/>; then faults and load stop, every
/// silo is brought back, acknowledged jobs are given time to end, and the history is checked. Every random choice
/// comes from the seed (timing, as on any real cluster, does not).
/// </summary>
public static class ChaosRun
{
    public static async Task<ChaosReport> Run(ChaosSettings settings, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var history = new ChaosHistory();
        var seeds = new Random(settings.Seed);
        await using var cluster = await ChaosCluster.Start(settings.Silos, history, log);
        using var cores = new SemaphoreSlim(1);
        var nodes = Enumerable.Range(0, settings.Nodes)
            .Select(_ => new ChaosNode(TestNode.Create(region: "eu-west", cpuCores: 4), cluster, history, new Random(seeds.Next()), cores))
            .ToList();
        try
        {
            await Parallel.ForEachAsync(nodes, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (node, _) => await node.Register());
            var load = new ChaosLoad(cluster, history, settings);
            await load.Prepare(new Random(seeds.Next()));
            var fleet = nodes.Select(n => n.Run()).ToList();
            log.WriteLine($"{history.Now.TotalSeconds,6:0.0} s: {nodes.Count} nodes registered, tenants and datasets ready; load and faults for {settings.Load.TotalSeconds:0} s");

            var faults = new ChaosFaults(cluster, history, settings, log);
            using var stop = new CancellationTokenSource(settings.Load);
            var contributors = nodes.Take(settings.Contributors).ToList();
            var probeSeed = new Random(seeds.Next());
            await Task.WhenAll([
                load.Submit(0, new Random(seeds.Next()), stop.Token),
                load.Submit(1, new Random(seeds.Next()), stop.Token),
                .. contributors.Select((c, i) => load.Contribute(c.Node, i, new Random(seeds.Next()), stop.Token)),
                load.ObserveHeads(new Random(seeds.Next()), stop.Token),
                faults.Silos(new Random(seeds.Next()), r => Probes(nodes, history, r), stop.Token),
                faults.Postgres(settings.Load / 2, stop.Token),
                faults.Nodes([.. nodes.Skip(settings.Contributors)], new Random(seeds.Next()), stop.Token),
                Progress(history, cluster, log, stop.Token),
            ]);
            log.WriteLine($"{history.Now.TotalSeconds,6:0.0} s: load and faults stopped; bringing every silo back");
            await faults.Settle();
            var nodesKilled = history.KilledNodes.Count;

            var checks = new ChaosChecks(cluster, history, new Random(seeds.Next()));
            await Ended(checks, history, load, settings);
            log.WriteLine($"{history.Now.TotalSeconds,6:0.0} s: jobs ended; stopping the fleet");
            nodes.ForEach(n => n.Stop());
            try
            {
                await Task.WhenAll(fleet).WaitAsync(TimeSpan.FromMinutes(1));
            }
            catch (TimeoutException)
            {
                history.Problem($"{fleet.Count(f => !f.IsCompleted)} nodes still had a batch unanswered a minute after the fleet was told to stop; killed");
                nodes.Where((_, i) => !fleet[i].IsCompleted).ToList().ForEach(n => n.Kill());
            }

            await Delivered(checks, nodes, history);
            log.WriteLine($"{history.Now.TotalSeconds,6:0.0} s: checking");
            var telemetry = await checks.Telemetry(nodes);
            var chain = await checks.Chain();
            var jobs = await checks.Jobs(load.TenantKeys, chain);
            var overlaps = checks.Overlaps();
            var datasets = await checks.Datasets(ChaosLoad.Datasets);
            var ledger = checks.Ledger(chain);
            var faultsSeen = history.SiloFaults.ToList();
            return new ChaosReport
            {
                Settings = settings,
                Logs = cluster.Logs,
                Operations = history.Operations,
                Requests = history.Requests,
                SiloKills = faultsSeen.Count(f => !f.Graceful),
                SiloStops = faultsSeen.Count(f => f.Graceful),
                SiloRestarts = history.SiloRestarts,
                SiloStartFailures = history.SiloStartFailures,
                PostgresRestarts = history.PostgresRestarts,
                NodesKilled = nodesKilled,
                NodesKilledIdle = history.NodesKilledIdle,
                RecoveryP99Seconds = ChaosChecks.P99(faultsSeen.Where(f => f.Recovery is not null).Select(f => f.Recovery!.Value)),
                RecoveryMaxSeconds = faultsSeen.Max(f => f.Recovery?.TotalSeconds) is { } max ? Math.Round(max, 2) : null,
                GracefulStopMaxSeconds = faultsSeen.Where(f => f.Graceful).Max(f => f.Exit?.TotalSeconds) is { } exit ? Math.Round(exit, 1) : null,
                TelemetrySent = history.Telemetry.Values.Sum(t => t.Sent),
                TelemetryAcknowledged = history.Telemetry.Values.Sum(t => t.Acknowledged),
                TelemetryAccepted = telemetry.Accepted,
                TelemetryLost = telemetry.Lost,
                TelemetryDuplicated = telemetry.Duplicated,
                NodesWithLoss = telemetry.NodesWithLoss,
                JobsSent = history.Jobs.Count,
                JobsAcknowledged = history.Jobs.Values.Count(j => j.Acknowledged),
                JobsLost = jobs.Lost,
                JobsDuplicated = jobs.Duplicated,
                JobsSucceeded = jobs.Succeeded,
                JobsNotEnded = jobs.NotEnded,
                SlotHolds = history.Holds.Count,
                SlotOverlaps = overlaps,
                ContributionsSent = history.ContributionsSent,
                ContributionsAcknowledged = history.Contributions.Count,
                ContributionsLost = datasets.Lost,
                ContributionsDuplicated = datasets.Duplicated,
                HeadsObserved = datasets.Heads,
                ConsistencyChecks = datasets.Proofs,
                LedgerValid = ledger,
                LedgerPostings = chain.Count,
                Seconds = clock.Elapsed.TotalSeconds,
                Problems = [.. history.Problems, .. checks.Problems],
            };
        }
        finally
        {
            nodes.ForEach(n => n.Kill());
            nodes.ForEach(n => n.Dispose());
        }
    }

    /// <summary>What a silo fault's recovery is measured on: four live nodes, two acknowledged jobs and a dataset.</summary>
    private static (string Path, string? Key)[] Probes(List<ChaosNode> nodes, ChaosHistory history, Random random)
    {
        var alive = nodes.Where(n => !n.Killed).ToList();
        var jobs = history.Jobs.Values.Where(j => j.Acknowledged).OrderBy(j => j.JobId, StringComparer.Ordinal).ToList();
        return
        [
            .. Enumerable.Range(0, 4).Select(_ => ($"/v1/nodes/{alive[random.Next(alive.Count)].Id}", (string?)null)),
            .. jobs.Count == 0 ? [] : Enumerable.Range(0, 2).Select(_ => jobs[random.Next(jobs.Count)]).Select(j => ($"/v1/jobs/{j.JobId}", (string?)j.Tenant)),
            ($"/v1/datasets/{ChaosLoad.Datasets[0]}", null),
        ];
    }

    /// <summary>Waits, within <see cref="ChaosSettings.EndWait"/>, for every acknowledged job to end; a timeout is a finding, not the end of the run.</summary>
    private static async Task Ended(ChaosChecks checks, ChaosHistory history, ChaosLoad load, ChaosSettings settings)
    {
        var acknowledged = history.Jobs.Values.Where(j => j.Acknowledged).Select(j => (j.Tenant, j.JobId)).ToHashSet();
        try
        {
            await Wait.Until(async () =>
            {
                var open = new List<string>();
                foreach (var key in load.TenantKeys)
                {
                    var jobs = await checks.Get<JobSummary[]>($"/v1/jobs?limit={JobQuery.MaxLimit}&state=queued", key) is { } q
                        && await checks.Get<JobSummary[]>($"/v1/jobs?limit={JobQuery.MaxLimit}&state=placed", key) is { } p
                        && await checks.Get<JobSummary[]>($"/v1/jobs?limit={JobQuery.MaxLimit}&state=running", key) is { } r
                        ? q.Concat(p).Concat(r).Where(j => acknowledged.Contains((key, j.JobId))).Select(j => $"{j.JobId} {j.Status}".ToLowerInvariant())
                        : ["(listing unreadable)"];
                    open.AddRange(jobs);
                }

                return new OpenJobs(open.Count, string.Join(", ", open.Take(10)));
            }, o => o.Count == 0, "every acknowledged job to end", settings.EndWait);
        }
        catch (TimeoutException e)
        {
            history.Problem(e.Message);
        }
    }

    /// <summary>Waits up to 15 s for each surviving node's newest acknowledged batch to show as its last sequence (stream delivery).</summary>
    private static async Task Delivered(ChaosChecks checks, List<ChaosNode> nodes, ChaosHistory history)
    {
        var survivors = nodes.Where(n => !n.Killed).ToList();
        try
        {
            await Wait.Until(async () =>
            {
                var behind = 0;
                foreach (var node in survivors)
                {
                    behind += (await checks.Get<NodeDetails>($"/v1/nodes/{node.Id}"))?.LastSequence >= history.Node(node.Id).LastAcknowledged ? 0 : 1;
                }

                return behind;
            }, behind => behind == 0, "every surviving node's newest acknowledged batch to be applied", TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            // the telemetry check names each node whose newest acknowledged batch is missing
        }
    }

    private static async Task Progress(ChaosHistory history, ChaosCluster cluster, TextWriter log, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(15), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            log.WriteLine($"{history.Now.TotalSeconds,6:0.0} s: {cluster.Up} silos up; acknowledged {history.Telemetry.Values.Sum(t => t.Acknowledged)} batches, " +
                $"{history.Jobs.Values.Count(j => j.Acknowledged)} jobs, {history.Contributions.Count} contributions; {history.Holds.Count} slot holds; {history.Problems.Count} problems");
        }
    }

    private sealed record OpenJobs(int Count, string Sample);
}
