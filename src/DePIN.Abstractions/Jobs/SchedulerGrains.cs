namespace DePIN.Abstractions.Jobs;

/// <summary>
/// The platform's scheduler; key <see cref="Key"/>. It keeps the queue and the ledger of allocations, reads the
/// directory's compact summaries (never the node grains) and places gangs with a policy from DePIN.Core.
/// </summary>
[Alias("DePIN.ISchedulerGrain")]
public interface ISchedulerGrain : IGrainWithStringKey
{
    /// <summary>The one scheduler's key (also the fleet-wide node-events key it listens on).</summary>
    const string Key = StreamNames.FleetKey;

    /// <summary>Queues a job for placement; completes once the queue entry is durable. Idempotent.</summary>
    [Alias("Enqueue")]
    Task Enqueue(string jobKey, JobSpec spec);

    /// <summary>
    /// Frees what the job's earlier attempts hold and queues it for <paramref name="attempt"/>, not to be placed
    /// before <paramref name="notBefore"/> (retry backoff); completes once durable. Idempotent: nothing happens once
    /// that attempt is queued or placed.
    /// </summary>
    [Alias("Requeue")]
    Task Requeue(string jobKey, JobSpec spec, int attempt, DateTimeOffset notBefore);

    /// <summary>Takes the job out of the queue and frees what it holds (it ended or was cancelled). Idempotent.</summary>
    [Alias("Release")]
    Task Release(string jobKey);

    /// <summary>
    /// Problems by field when no placement of the spec can exist on the registered fleet (even with every node empty
    /// and up); empty when one can, and while no node has registered at all.
    /// </summary>
    [Alias("Impossible")]
    Task<Dictionary<string, string[]>> Impossible(JobSpec spec);

    /// <summary>The lease rates the market set, per region and resource class.</summary>
    [Alias("Rates")]
    Task<DePIN.Abstractions.Economy.MarketRate[]> Rates();
}
