using DePIN.Abstractions.Nodes;
using Orleans.Concurrency;

namespace DePIN.Abstractions.Jobs;

/// <summary>
/// One job, keyed <c>{tenant}/{job id}</c> (<see cref="JobKey"/>): job ids are the tenant's own, so submitting the same id
/// again is idempotent, and no tenant can reach, or even detect, another tenant's job.
/// </summary>
[Alias("DePIN.IJobGrain")]
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Creates the job, or reports what already holds the id. The spec must be valid (<see cref="JobSpecRules"/>).</summary>
    [Alias("Submit")]
    Task<SubmitResult> Submit(JobSpec spec);

    /// <summary>The job, or null when it was never submitted.</summary>
    [Alias("Get")]
    ValueTask<JobDetails?> Get();

    /// <summary>Cancels the job unless it already ended; null when it was never submitted.</summary>
    [Alias("Cancel")]
    Task<JobDetails?> Cancel(string reason);

    /// <summary>
    /// The scheduler reserved nodes for an attempt. False when the job no longer wants them (it was cancelled), and
    /// the scheduler frees them. Interleaves, so the scheduler is never kept waiting by a job that is calling it.
    /// </summary>
    [Alias("Placed"), AlwaysInterleave]
    Task<bool> Placed(int attempt, JobAssignment[] assignments);

    /// <summary>
    /// One of the job's nodes went offline or is draining: the attempt ends, every other slot checkpoints and stops,
    /// and the job queues again to resume from its checkpoints. Idempotent: the interruption is counted once, by the job;
    /// a node the current attempt does not hold (news that came late) is ignored.
    /// </summary>
    [Alias("Interrupted")]
    Task Interrupted(string nodeId, NodeStatus status, string reason);

    /// <summary>Higher-priority work needs the job's nodes: it checkpoints, stops and queues again. Idempotent, counted once.</summary>
    [Alias("Preempt")]
    Task Preempt(string reason);

    /// <summary>
    /// Checks on itself: stop deadlines, slots that never started, inbox writes lost in a crash, clean-up left
    /// unfinished. The scheduler calls it for every job it holds nodes for, once per <c>Jobs:WatchdogPeriod</c>.
    /// </summary>
    [Alias("Check")]
    Task Check();

    /// <summary>An agent's report on one of the job's slots; the caller has checked the node's signature.</summary>
    [Alias("Report")]
    Task<ReportOutcome> Report(WorkReport report);

    /// <summary>Whether <paramref name="nodeId"/> holds <paramref name="slot"/> of the current attempt, not asked to stop.</summary>
    [Alias("Holds"), Orleans.Concurrency.ReadOnly]
    Task<bool> Holds(string nodeId, int slot, int attempt);
}

/// <summary>The grain key of a tenant's job.</summary>
public static class JobKey
{
    public static string For(string tenant, string jobId) => $"{tenant}/{jobId}";

    /// <summary>Splits a key made by <see cref="For"/>.</summary>
    public static (string Tenant, string JobId) Parse(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 ? (key[..slash], key[(slash + 1)..]) : throw new ArgumentException($"'{key}' is not a job key.", nameof(key));
    }
}

/// <summary>
/// One shard of a tenant's job listing, compact rows; key <c>{tenant}/{shard}</c> (<see cref="TenantJobs"/>). Sharded so
/// that each write carries a sixteenth of the tenant's rows.
/// </summary>
[Alias("DePIN.ITenantJobsGrain")]
public interface ITenantJobsGrain : IGrainWithStringKey
{
    /// <summary>Adds or updates a job's row; completes once durable.</summary>
    [Alias("Upsert")]
    Task Upsert(JobSummary job);

    [Alias("List")]
    ValueTask<JobSummary[]> List(JobQuery query);
}

/// <summary>How a tenant's job listing is sharded, and how to read it whole.</summary>
public static class TenantJobs
{
    /// <summary>
    /// Shards per tenant. A shard is written whole on every change, so this bounds what one job update costs to make
    /// durable. It is part of the data layout: rows a shard finds that belong elsewhere (written under an earlier
    /// count, 16) it moves to their home shard.
    /// </summary>
    public const int Shards = 64;

    public static int Home(string jobId) => (int)(PartitionHash.Fnv1a(jobId) % Shards);

    public static string ShardKey(string tenant, int shard) => $"{tenant}/{shard}";

    /// <summary>The tenant and shard number a <see cref="ShardKey"/> names.</summary>
    public static (string Tenant, int Shard) ParseShardKey(string key)
    {
        var slash = key.LastIndexOf('/');
        return (key[..slash], int.Parse(key.AsSpan(slash + 1), System.Globalization.CultureInfo.InvariantCulture));
    }

    public static ITenantJobsGrain Shard(IGrainFactory grains, string tenant, string jobId) =>
        grains.Ref<ITenantJobsGrain>(ShardKey(tenant, Home(jobId)));

    /// <summary>
    /// One page of the tenant's jobs in id order, merged from every shard. A row met twice (in the moment a shard
    /// moves it home) counts once, as its latest version.
    /// </summary>
    public static async Task<JobSummary[]> List(IGrainFactory grains, string tenant, JobQuery query)
    {
        var pages = await Task.WhenAll(Enumerable.Range(0, Shards)
            .Select(i => grains.Ref<ITenantJobsGrain>(ShardKey(tenant, i)).List(query).AsTask()));
        return [.. pages.SelectMany(p => p)
            .GroupBy(j => j.JobId, StringComparer.Ordinal)
            .Select(g => g.MaxBy(j => j.UpdatedAt)!)
            .OrderBy(j => j.JobId, StringComparer.Ordinal)
            .Take(Math.Clamp(query.Limit, 1, JobQuery.MaxLimit))];
    }
}
