namespace DePIN.Abstractions.Jobs;

/// <summary>
/// One job, keyed by the id its tenant chose: submitting the same id again is idempotent. Every call names the caller's
/// tenant; a job of another tenant behaves exactly as a job that does not exist. A null tenant is an operator.
/// </summary>
[Alias("DePIN.IJobGrain")]
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Creates the job, or reports what already holds the id. The spec must be valid (<see cref="JobSpecRules"/>).</summary>
    [Alias("Submit")]
    Task<SubmitResult> Submit(string tenant, JobSpec spec);

    /// <summary>The job, or null when it does not exist for this tenant.</summary>
    [Alias("Get")]
    ValueTask<JobDetails?> Get(string? tenant);

    /// <summary>Cancels the job unless it already ended; null when it does not exist for this tenant.</summary>
    [Alias("Cancel")]
    Task<JobDetails?> Cancel(string? tenant, string reason);
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
