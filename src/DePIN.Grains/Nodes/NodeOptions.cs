using DePIN.Core.Nodes;

namespace DePIN.Grains.Nodes;

/// <summary>Node liveness and telemetry handling; configuration section <c>Nodes</c>.</summary>
public sealed class NodeOptions
{
    public const string Section = "Nodes";

    /// <summary>The agents' reporting interval.</summary>
    public TimeSpan TelemetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Silent intervals after which a node is Suspect.</summary>
    public int SuspectAfterIntervals { get; set; } = 3;

    /// <summary>Silent intervals after which a node is Offline.</summary>
    public int OfflineAfterIntervals { get; set; } = 6;

    /// <summary>
    /// How often a node grain writes its telemetry summary and sequence watermark. Registration and status
    /// changes are written at once; telemetry is journaled per batch and checkpointed (the journal trimmed) this often.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Batches a silo's telemetry journal holds waiting for their write; beyond it, batches are refused as overloaded
    /// (503 with Retry-After) rather than queued without bound.
    /// </summary>
    public int JournalBacklog { get; set; } = 20_000;

    /// <summary>A batch signed longer ago than this is dropped as stale.</summary>
    public TimeSpan MaxBatchAge { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How far ahead of the platform's clock a batch's timestamp may be.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Period of the durable reminder an online node holds, so that its grain comes back to judge liveness after
    /// the silo hosting it died. Orleans reminders tick at most once a minute.
    /// </summary>
    public TimeSpan RecoveryReminderPeriod { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The time window of the telemetry summary's moving averages.</summary>
    public TimeSpan SummaryWindow { get; set; } = TimeSpan.FromMinutes(1);

    public LivenessPolicy Liveness => new LivenessPolicy(TelemetryInterval, SuspectAfterIntervals, OfflineAfterIntervals).Validated();
}
