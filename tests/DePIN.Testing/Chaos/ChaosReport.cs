using System.Text.Json.Nodes;

namespace DePIN.Testing.Chaos;

/// <summary>What a chaos run did and what its checks found; <see cref="ToJson"/> is the one object the bench prints.</summary>
public sealed record ChaosReport
{
    public required ChaosSettings Settings { get; init; }

    /// <summary>The folder the run's silos logged to (TestResults/chaos/{cluster id}).</summary>
    public required string Logs { get; init; }
    public long Operations { get; init; }
    public long Requests { get; init; }
    public int SiloKills { get; init; }
    public int SiloStops { get; init; }
    public int SiloRestarts { get; init; }

    public int SiloStartFailures { get; init; }
    public int PostgresRestarts { get; init; }
    public int NodesKilled { get; init; }
    public int NodesKilledIdle { get; init; }
    public double? RecoveryP99Seconds { get; init; }
    public double? RecoveryMaxSeconds { get; init; }
    public double? GracefulStopMaxSeconds { get; init; }
    public long TelemetrySent { get; init; }
    public long TelemetryAcknowledged { get; init; }
    public long TelemetryAccepted { get; init; }
    public long TelemetryLost { get; init; }
    public long TelemetryDuplicated { get; init; }
    public int NodesWithLoss { get; init; }
    public int JobsSent { get; init; }
    public int JobsAcknowledged { get; init; }
    public int JobsLost { get; init; }
    public int JobsDuplicated { get; init; }
    public int JobsSucceeded { get; init; }
    public int JobsNotEnded { get; init; }
    public int SlotHolds { get; init; }
    public int SlotOverlaps { get; init; }
    public long ContributionsSent { get; init; }
    public int ContributionsAcknowledged { get; init; }
    public int ContributionsLost { get; init; }
    public int ContributionsDuplicated { get; init; }
    public int HeadsObserved { get; init; }
    public int ConsistencyChecks { get; init; }
    public bool LedgerValid { get; init; }
    public int LedgerPostings { get; init; }
    public double Seconds { get; init; }
    public required IReadOnlyList<string> Problems { get; init; }

    public long Acknowledged => TelemetryAcknowledged + JobsAcknowledged + ContributionsAcknowledged;

    public long Lost => TelemetryLost + JobsLost + ContributionsLost;

    public long Duplicated => TelemetryDuplicated + JobsDuplicated + ContributionsDuplicated;

    public JsonObject ToJson() => new()
    {
        ["scenario"] = "chaos",
        ["seed"] = Settings.Seed,
        ["silos"] = Settings.Silos,
        ["minutes"] = Math.Round(Settings.Load.TotalMinutes, 2),
        ["nodes"] = Settings.Nodes,
        ["operations"] = Operations,
        ["acknowledged"] = Acknowledged,
        ["lost"] = Lost,
        ["duplicated"] = Duplicated,
        ["silo_kills"] = SiloKills + SiloStops,
        ["silo_sigkills"] = SiloKills,
        ["silo_graceful_stops"] = SiloStops,
        ["silo_restarts"] = SiloRestarts,
        ["silo_start_failures"] = SiloStartFailures,
        ["recovery_p99_s"] = RecoveryP99Seconds,
        ["recovery_max_s"] = RecoveryMaxSeconds,
        ["graceful_stop_max_s"] = GracefulStopMaxSeconds,
        ["postgres_restarts"] = PostgresRestarts,
        ["nodes_killed"] = NodesKilled,
        ["nodes_killed_idle"] = NodesKilledIdle,
        ["requests"] = Requests,
        ["telemetry_sent"] = TelemetrySent,
        ["telemetry_acknowledged"] = TelemetryAcknowledged,
        ["telemetry_accepted"] = TelemetryAccepted,
        ["telemetry_lost"] = TelemetryLost,
        ["telemetry_duplicated"] = TelemetryDuplicated,
        ["nodes_with_telemetry_loss"] = NodesWithLoss,
        ["jobs_sent"] = JobsSent,
        ["jobs_acknowledged"] = JobsAcknowledged,
        ["jobs_lost"] = JobsLost,
        ["jobs_duplicated"] = JobsDuplicated,
        ["jobs_succeeded"] = JobsSucceeded,
        ["jobs_not_ended"] = JobsNotEnded,
        ["slot_holds"] = SlotHolds,
        ["slot_overlaps"] = SlotOverlaps,
        ["contributions_sent"] = ContributionsSent,
        ["contributions_acknowledged"] = ContributionsAcknowledged,
        ["contributions_lost"] = ContributionsLost,
        ["contributions_duplicated"] = ContributionsDuplicated,
        ["heads_observed"] = HeadsObserved,
        ["consistency_checks"] = ConsistencyChecks,
        ["ledger_valid"] = LedgerValid,
        ["ledger_postings"] = LedgerPostings,
        ["seconds"] = Math.Round(Seconds, 1),
        ["problems"] = new JsonArray([.. Problems.Select(p => (JsonNode)p)]),
    };
}
