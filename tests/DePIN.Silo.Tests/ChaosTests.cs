using DePIN.Testing.Chaos;

namespace DePIN.Silo.Tests;

/// <summary>
/// The short form of issue 17's chaos run: three silos, 90 s of load with silo kills and stops, a PostgreSQL restart
/// and node kills, then every acknowledged operation checked. The bench's <c>chaos</c> scenario is the long form.
/// </summary>
[Collection(nameof(ChaosTests))]
public sealed class ChaosTests
{
    [Fact]
    public async Task Under_silo_kills_a_postgres_restart_and_node_kills_nothing_acknowledged_is_lost_or_doubled()
    {
        var story = new StringWriter();
        var log = TextWriter.Synchronized(story);
        var settings = new ChaosSettings(Silos: 3, Load: TimeSpan.FromSeconds(90), Seed: 17, Nodes: 40, SiloKillGap: TimeSpan.FromSeconds(15),
            JobsEnd: TimeSpan.FromSeconds(150)); // beyond the jobs' watchdog period (a minute), which heals a lost requeue

        var report = await ChaosRun.Run(settings, log);

        var seen = $"{report.ToJson()}\n{story}";
        // Beside the silos' logs, so that a failed run (in CI too) can be read whole afterwards.
        Directory.CreateDirectory(report.Logs);
        await File.WriteAllTextAsync(Path.Combine(report.Logs, "run.txt"), seen, TestContext.Current.CancellationToken);

        // The mix is drawn from the seed but when each fault lands depends on timing: a SIGKILL is likelier than a stop,
        // and a node is killed only while it holds work.
        Assert.True(report.SiloKills >= 1 && report.SiloKills + report.SiloStops >= 4, $"too few silo faults\n{seen}");
        Assert.True(report.PostgresRestarts == 1 && report.NodesKilled >= 1, $"the faults did not all happen\n{seen}");
        Assert.True(report.JobsAcknowledged > 0 && report.ContributionsAcknowledged > 0 && report.TelemetryAcknowledged > 0, $"no load\n{seen}");
        Assert.True(report.Lost == 0 && report.Duplicated == 0 && report.Problems.Count == 0, $"the checks found:\n{string.Join('\n', report.Problems)}\n{seen}");
    }
}

/// <summary>The chaos run alone: three silos, PostgreSQL and a fleet want the machine's cores to themselves.</summary>
[CollectionDefinition(nameof(ChaosTests), DisableParallelization = true)]
public sealed class ChaosCollection;
