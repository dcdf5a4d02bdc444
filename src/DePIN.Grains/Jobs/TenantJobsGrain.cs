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
/// One shard of a tenant's job listing. It keeps every job that has not ended and the latest <see cref="KeepFinished"/> (up to a
/// thousand more between trims) that have
/// (older finished jobs stay readable by id from their own grain), so it stays bounded however long the tenant works.
/// Reentrant: concurrent updates change the dictionary within their turn and share one storage write.
/// </summary>
[Orleans.Concurrency.Reentrant]
public sealed class TenantJobsGrain(
    [PersistentState("jobs", StorageNames.Jobs)] IPersistentState<TenantJobsState> state,
    DePINMetrics metrics)
    : Grain, ITenantJobsGrain, IRemindable
{
    public const int KeepFinished = 2_500;
    private const int TrimBatch = 1000;

    // Keeps the index active after its silo dies, so depin_jobs keeps counting its jobs.
    private const string KeepActiveReminder = "keep-active";

    private readonly GroupCommit _commit = new(state.WriteStateAsync);
    private readonly long[] _counts = new long[Enum.GetValues<JobStatus>().Length];

    private Dictionary<string, JobSummary> Jobs => state.State.Jobs;

    private (string Tenant, int Shard) _key;

    /// <summary>Rows written here under an earlier shard count, whose home is another shard now.</summary>
    private IEnumerable<JobSummary> Strays => Jobs.Values.Where(j => TenantJobs.Home(j.JobId) != _key.Shard);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = TenantJobs.ParseShardKey(this.GetPrimaryKeyString());
        foreach (var job in Jobs.Values)
        {
            _counts[(int)job.Status]++;
        }

        ReportCounts();
        await this.RegisterOrUpdateReminder(KeepActiveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5));
        if (Strays.Any())
        {
            // Not in activation itself: the home shard may be activating too, moving rows here.
            this.RegisterGrainTimer(MoveStrays, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan) { Interleave = true });
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.ForgetJobCounts(this.GetPrimaryKeyString());
        return _commit.Pending;
    }

    public Task Upsert(JobSummary job)
    {
        if (Jobs.TryGetValue(job.JobId, out var known))
        {
            if (known == job || known.UpdatedAt > job.UpdatedAt)
            {
                return Task.CompletedTask;
            }

            _counts[(int)known.Status]--;
        }

        Jobs[job.JobId] = job;
        _counts[(int)job.Status]++;
        Trim();
        ReportCounts();
        return _commit.Persist();
    }

    public ValueTask<JobSummary[]> List(JobQuery query) => ValueTask.FromResult(Jobs.Values
        .Where(j => (query.Status is null || j.Status == query.Status) &&
                    (query.After is null || string.CompareOrdinal(j.JobId, query.After) > 0))
        .OrderBy(j => j.JobId, StringComparer.Ordinal)
        .Take(Math.Clamp(query.Limit, 1, JobQuery.MaxLimit))
        .ToArray());

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    /// <summary>
    /// Moves rows written under an earlier shard count to their home shard: recorded there first, then dropped here,
    /// so a crash in between leaves a duplicate (which listing merges) rather than a gap.
    /// </summary>
    private async Task MoveStrays(CancellationToken cancellationToken)
    {
        var strays = Strays.ToList();
        await Task.WhenAll(strays.Select(j => TenantJobs.Shard(GrainFactory, _key.Tenant, j.JobId).Upsert(j)));
        foreach (var job in strays)
        {
            if (Jobs.Remove(job.JobId, out var known))
            {
                _counts[(int)known.Status]--;
            }
        }

        ReportCounts();
        await _commit.Persist();
    }

    private void Trim()
    {
        // Trim in batches: the scan runs once per thousand finished jobs rather than once per job.
        var finished = _counts[(int)JobStatus.Succeeded] + _counts[(int)JobStatus.Failed] + _counts[(int)JobStatus.Cancelled];
        if (finished <= KeepFinished + TrimBatch)
        {
            return;
        }

        foreach (var old in Jobs.Values.Where(j => JobGrain.IsFinal(j.Status)).OrderBy(j => j.UpdatedAt).Take((int)(finished - KeepFinished)).ToList())
        {
            Jobs.Remove(old.JobId);
            _counts[(int)old.Status]--;
        }
    }

    private void ReportCounts() => metrics.ReportJobCounts(this.GetPrimaryKeyString(), (long[])_counts.Clone());
}
