using DePIN.Abstractions;
using DePIN.Abstractions.Jobs;
using DePIN.Grains.Diagnostics;

namespace DePIN.Grains.Jobs;

[GenerateSerializer, Alias("DePIN.TenantJobsState")]
public sealed class TenantJobsState
{
    [Id(0)] public Dictionary<string, JobSummary> Jobs { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A tenant's job listing. It keeps every job that has not ended and the latest <see cref="KeepFinished"/> that have
/// (older finished jobs stay readable by id from their own grain), so it stays bounded however long the tenant works.
/// </summary>
public sealed class TenantJobsGrain(
    [PersistentState("jobs", StorageNames.Jobs)] IPersistentState<TenantJobsState> state,
    DePINMetrics metrics)
    : Grain, ITenantJobsGrain, IRemindable
{
    public const int KeepFinished = 10_000;

    // Keeps the index active after its silo dies, so depin_jobs keeps counting its jobs.
    private const string KeepActiveReminder = "keep-active";

    private Dictionary<string, JobSummary> Jobs => state.State.Jobs;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        ReportCounts();
        await this.RegisterOrUpdateReminder(KeepActiveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5));
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.ForgetJobCounts(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public async Task Upsert(JobSummary job)
    {
        if (Jobs.TryGetValue(job.JobId, out var known) && (known == job || known.UpdatedAt > job.UpdatedAt))
        {
            return;
        }

        Jobs[job.JobId] = job;
        Trim();
        ReportCounts();
        await state.WriteStateAsync();
    }

    public ValueTask<JobSummary[]> List(JobQuery query) => ValueTask.FromResult(Jobs.Values
        .Where(j => (query.Status is null || j.Status == query.Status) &&
                    (query.After is null || string.CompareOrdinal(j.JobId, query.After) > 0))
        .OrderBy(j => j.JobId, StringComparer.Ordinal)
        .Take(Math.Clamp(query.Limit, 1, JobQuery.MaxLimit))
        .ToArray());

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    private void Trim()
    {
        var finished = Jobs.Values.Where(j => JobGrain.IsFinal(j.Status)).ToList();
        if (finished.Count <= KeepFinished)
        {
            return;
        }

        foreach (var old in finished.OrderBy(j => j.UpdatedAt).Take(finished.Count - KeepFinished))
        {
            Jobs.Remove(old.JobId);
        }
    }

    private void ReportCounts()
    {
        var counts = new long[Enum.GetValues<JobStatus>().Length];
        foreach (var job in Jobs.Values)
        {
            counts[(int)job.Status]++;
        }

        metrics.ReportJobCounts(this.GetPrimaryKeyString(), counts);
    }
}
