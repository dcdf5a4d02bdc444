using DePIN.Abstractions;
using DePIN.Abstractions.Jobs;
using Microsoft.Extensions.Logging;

namespace DePIN.Grains.Jobs;

/// <summary>A job's durable state; its tenant and id are its grain key.</summary>
[GenerateSerializer, Alias("DePIN.JobState")]
public sealed class JobState
{
    [Id(1)] public JobSpec? Spec { get; set; }
    [Id(2)] public JobStatus Status { get; set; }
    [Id(3)] public string? Reason { get; set; }
    [Id(4)] public DateTimeOffset SubmittedAt { get; set; }
    [Id(5)] public DateTimeOffset UpdatedAt { get; set; }
    [Id(6)] public int Attempts { get; set; }
    [Id(7)] public JobAssignment[] Assignments { get; set; } = [];
    [Id(8)] public double Progress { get; set; }
    [Id(9)] public JobCheckpoint? Checkpoint { get; set; }

    public bool Exists => Spec is not null;
}

/// <summary>
/// One job: its spec, lifecycle and (as the scheduler and agents act on it) assignments, progress and checkpoints.
/// Every change is written before it is acknowledged or announced, and mirrored into the tenant's job index.
/// </summary>
public sealed partial class JobGrain(
    [PersistentState("job", StorageNames.Jobs)] IPersistentState<JobState> state,
    PlatformClock clock,
    ILogger<JobGrain> logger)
    : Grain, IJobGrain
{
    private JobState Job => state.State;

    private string Tenant = "";
    private string JobId = "";

    private string Key => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (Tenant, JobId) = JobKey.Parse(Key);
        return Task.CompletedTask;
    }

    public async Task<SubmitResult> Submit(JobSpec spec)
    {
        if (!JobSpecRules.IsJobId(JobId))
        {
            throw new InvalidJobSpecException(new() { ["id"] = ["must be 1 to 128 letters, digits, '-', '_' or '.', starting with a letter or digit"] });
        }

        var tenant = Tenant;
        if (!TenantName.IsValid(tenant))
        {
            throw new ArgumentException($"'{tenant}' is not a tenant name.");
        }

        var errors = JobSpecRules.Check(spec);
        if (errors.Count > 0)
        {
            throw new InvalidJobSpecException(errors);
        }

        if (Job.Exists)
        {
            if (Job.Spec != spec)
            {
                return new SubmitResult(SubmitOutcome.Conflict, null);
            }

            // A retry of a submission that may not have reached the index or the queue: make sure it did.
            await Index();
            if (Job.Status == JobStatus.Queued)
            {
                await Scheduler.Enqueue(Key, spec);
            }

            return new SubmitResult(SubmitOutcome.AlreadySubmitted, Details());
        }

        Job.Spec = spec;
        Job.SubmittedAt = clock.UtcNow;
        await Move(JobStatus.Queued, null, [], Job.SubmittedAt);
        await Scheduler.Enqueue(Key, spec);
        await Announce(null);
        LogSubmitted(JobId, tenant, spec.Kind, spec.Replicas);
        return new SubmitResult(SubmitOutcome.Created, Details());
    }

    public ValueTask<JobDetails?> Get() => ValueTask.FromResult(Job.Exists ? Details() : null);

    public async Task<JobDetails?> Cancel(string reason)
    {
        if (!Job.Exists)
        {
            return null;
        }

        if (IsFinal(Job.Status))
        {
            return Details();
        }

        var previous = await Move(JobStatus.Cancelled, reason, []);
        await Scheduler.Release(Key);
        await Announce(previous);
        return Details();
    }

    public async Task<bool> Placed(int attempt, JobAssignment[] assignments)
    {
        // Runs interleaved: decide and change state before the first await.
        if (!Job.Exists || Job.Status != JobStatus.Queued)
        {
            return false;
        }

        Job.Attempts++;
        var previous = await Move(JobStatus.Placed, null, [.. assignments.Select(a => a with { Attempt = Job.Attempts })]);
        await Announce(previous);
        return true;
    }

    public async Task Interrupted(string reason)
    {
        if (!Job.Exists || Job.Status is not (JobStatus.Placed or JobStatus.Running))
        {
            return;
        }

        var previous = await Move(JobStatus.Queued, reason, []);
        await Scheduler.Enqueue(Key, Job.Spec!);
        await Announce(previous);
    }

    private ISchedulerGrain Scheduler => GrainFactory.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key);

    /// <summary>Whether a job in this status will never change again.</summary>
    public static bool IsFinal(JobStatus status) => status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;

    /// <summary>
    /// Changes the status (synchronously, before the first await, so interleaved calls see it), then writes the state
    /// and mirrors it into the tenant's index. Returns the status it left.
    /// </summary>
    private async Task<JobStatus> Move(JobStatus to, string? reason, JobAssignment[] assignments, DateTimeOffset? at = null)
    {
        var previous = Job.Status;
        Job.Status = to;
        Job.Reason = reason;
        Job.Assignments = assignments;
        Job.UpdatedAt = at ?? clock.UtcNow;
        await state.WriteStateAsync();
        await Index();
        return previous;
    }

    private JobDetails Details() => new(
        JobId, Tenant, Job.Spec!, Job.Status, Job.Reason, Job.SubmittedAt, Job.UpdatedAt, Job.Attempts,
        Job.Assignments, Job.Progress, Job.Checkpoint);

    private Task Index() => TenantJobs.Shard(GrainFactory, Tenant, JobId)
        .Upsert(new JobSummary(JobId, Tenant, Job.Spec!.Kind, Job.Status, Job.SubmittedAt, Job.UpdatedAt));

    private async Task Announce(JobStatus? previous)
    {
        // Events are notifications; the job's state, already written, is the record.
        try
        {
            await this.GetStreamProvider(StreamNames.Provider)
                .GetStream<JobEvent>(StreamId.Create(StreamNames.JobEvents, Tenant))
                .OnNextAsync(new JobEvent(JobId, Job.Status, previous, Job.UpdatedAt, Job.Reason));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogEventLost(ex, JobId, Job.Status);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} submitted by {Tenant}: {Kind}, {Replicas} replica(s)")]
    private partial void LogSubmitted(string jobId, string tenant, JobKind kind, int replicas);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Status} event of job {JobId} was not published")]
    private partial void LogEventLost(Exception exception, string jobId, JobStatus status);
}
