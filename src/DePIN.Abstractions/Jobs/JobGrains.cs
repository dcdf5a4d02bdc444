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

/// <summary>A tenant's jobs in compact form, for listings; key: tenant.</summary>
[Alias("DePIN.ITenantJobsGrain")]
public interface ITenantJobsGrain : IGrainWithStringKey
{
    /// <summary>Adds or updates a job's row; completes once durable.</summary>
    [Alias("Upsert")]
    Task Upsert(JobSummary job);

    [Alias("List")]
    ValueTask<JobSummary[]> List(JobQuery query);
}
