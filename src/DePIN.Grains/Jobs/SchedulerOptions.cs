namespace DePIN.Grains.Jobs;

/// <summary>Scheduler settings; configuration section <c>Scheduler</c>.</summary>
public sealed class SchedulerOptions
{
    public const string Section = "Scheduler";

    /// <summary><c>predictive</c> (default), <c>least_loaded</c>, <c>first_fit</c> or <c>random</c>.</summary>
    public string Policy { get; set; } = "predictive";

    /// <summary>How often queued jobs are tried again.</summary>
    public TimeSpan PassInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a write of the queue and ledger waits for more changes to carry (group commit).</summary>
    public TimeSpan CommitDelay { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>How old the scheduler's copy of the directory may grow before a pass re-reads it.</summary>
    public TimeSpan DirectoryRefresh { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>At most this many lower-priority jobs are preempted to make room for one job.</summary>
    public int MaxVictims { get; set; } = 8;

    /// <summary>At most this many blocked jobs look for victims in one pass (each search scans the fleet).</summary>
    public int MaxPreemptionSearches { get; set; } = 4;
}
