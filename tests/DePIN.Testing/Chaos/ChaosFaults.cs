using System.Collections.Concurrent;
using System.Diagnostics;

namespace DePIN.Testing.Chaos;

/// <summary>
/// The faults: silos killed (SIGKILL) or stopped (SIGTERM) at random, never the last one up, each started again after
/// a short pause; PostgreSQL restarted once half-way; 30 % of the nodes killed while they hold work. After each silo
/// fault a probe set (nodes, jobs and a dataset whose grains may have lived anywhere) is read until it all answers:
/// that time is the fault's recovery.
/// </summary>
public sealed class ChaosFaults(ChaosCluster cluster, ChaosHistory history, ChaosSettings settings, TextWriter log)
{
    private static readonly TimeSpan NotRecovered = TimeSpan.FromMinutes(2);
    private readonly ConcurrentBag<Task> _background = [];

    /// <summary>Silo faults until <paramref name="stop"/>: the first a SIGKILL, the second graceful, then about two kills to one stop.</summary>
    public async Task Silos(Random random, Func<Random, (string Path, string? Key)[]> probes, CancellationToken stop)
    {
        try
        {
            for (var n = 0; ; n++)
            {
                await Task.Delay(Between(random, settings.KillGap * 0.5, settings.KillGap * 1.5), stop);
                while (cluster.Up < 2)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), stop);
                }

                var up = cluster.UpSlots.ToArray();
                var slot = up[random.Next(up.Length)];
                var graceful = n switch { 0 => false, 1 => true, _ => random.NextDouble() < 0.35 };
                var pause = Between(random, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5));
                var fault = new SiloFault(slot, graceful, history.Now);
                history.SiloFaults.Enqueue(fault);
                log.WriteLine($"{history.Now.TotalSeconds,6:0.0} s: {(graceful ? "stopping" : "killing")} silo {slot}");
                var set = probes(random);
                _background.Add(KillAndRestart(fault, pause));
                _background.Add(Recovery(fault, set, new Random(random.Next())));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Restarts PostgreSQL once, after <paramref name="after"/>: an immediate stop, three seconds down, and a start on the same data.</summary>
    public async Task Postgres(TimeSpan after, CancellationToken stop)
    {
        try
        {
            await Task.Delay(after, stop);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        log.WriteLine($"{history.Now.TotalSeconds,6:0.0} s: restarting PostgreSQL");
        await cluster.RestartPostgres(TimeSpan.FromSeconds(3));
        history.PostgresRestarts++;
        log.WriteLine($"{history.Now.TotalSeconds,6:0.0} s: PostgreSQL is back");
    }

    /// <summary>
    /// Kills <see cref="ChaosSettings.NodesToKill"/> of <paramref name="candidates"/> at times spread over the load,
    /// each one that holds work at that moment (waiting up to 15 s for one to).
    /// </summary>
    public async Task Nodes(IReadOnlyList<ChaosNode> candidates, Random random, CancellationToken stop)
    {
        var times = Enumerable.Range(0, settings.NodesToKill)
            .Select(_ => settings.Load * (0.1 + (0.75 * random.NextDouble())))
            .Order()
            .ToList();
        var clock = Stopwatch.StartNew();
        try
        {
            foreach (var at in times)
            {
                if (at > clock.Elapsed)
                {
                    await Task.Delay(at - clock.Elapsed, stop);
                }

                var alive = candidates.Where(c => !c.Killed).ToList();
                var holding = alive.Where(c => c.HoldsWork).ToList();
                for (var waited = Stopwatch.StartNew(); holding.Count == 0 && waited.Elapsed < TimeSpan.FromSeconds(15); holding = [.. alive.Where(c => c.HoldsWork)])
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250), stop);
                }

                if (holding.Count == 0)
                {
                    Interlocked.Increment(ref history.NodesKilledIdle);
                    holding = alive;
                }

                var victim = holding[random.Next(holding.Count)];
                log.WriteLine($"{history.Now.TotalSeconds,6:0.0} s: killing node {victim.Id[..8]}{(victim.HoldsWork ? " (holding work)" : "")}");
                victim.Kill();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Waits for every restart and recovery probe under way, then starts any silo still down.</summary>
    public async Task Settle()
    {
        await Task.WhenAll(_background);
        foreach (var slot in Enumerable.Range(0, cluster.Count).Where(s => !cluster.IsUp(s)))
        {
            await cluster.Restart(slot, log);
        }
    }

    /// <summary>Takes the silo down (a graceful stop can take a while, so it runs beside the next faults) and starts it again after the pause.</summary>
    private async Task KillAndRestart(SiloFault fault, TimeSpan pause)
    {
        var slot = fault.Slot;
        await cluster.Kill(slot, fault.Graceful);
        fault.Exit = history.Now - fault.At;
        await Task.Delay(pause);
        try
        {
            await cluster.Restart(slot, log);
            log.WriteLine($"{history.Now.TotalSeconds,6:0.0} s: silo {slot} is back");
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            history.Problem($"silo {slot} could not be started again: {e.Message.Split('\n')[0]}");
        }
    }

    private async Task Recovery(SiloFault fault, (string Path, string? Key)[] probes, Random random)
    {
        while (history.Now - fault.At < NotRecovered)
        {
            using var round = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var answers = await Task.WhenAll(probes.Select(async p =>
            {
                try
                {
                    using var response = await cluster.Send(() => new HttpRequestMessage(HttpMethod.Get, p.Path).WithKey(p.Key), random, round.Token);
                    return response is { IsSuccessStatusCode: true };
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }));
            if (answers.All(a => a))
            {
                fault.Recovery = history.Now - fault.At;
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        history.Problem($"the probe set did not answer within {NotRecovered.TotalSeconds:0} s of the {(fault.Graceful ? "stop" : "kill")} of silo {fault.Slot} at {fault.At.TotalSeconds:0.0} s");
    }

    private static TimeSpan Between(Random random, TimeSpan from, TimeSpan to) => from + ((to - from) * random.NextDouble());
}
