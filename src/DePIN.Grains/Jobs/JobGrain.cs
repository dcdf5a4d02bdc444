using DePIN.Abstractions;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Economy;
using DePIN.Core.Work;
using DePIN.Grains.Diagnostics;
using DePIN.Grains.Economy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DePIN.Grains.Jobs;

/// <summary>What one slot of the current attempt has reported.</summary>
[GenerateSerializer, Alias("DePIN.SlotState")]
public sealed class SlotState
{
    [Id(0)] public bool Started { get; set; }
    [Id(1)] public long Step { get; set; }
    [Id(2)] public long CheckpointStep { get; set; }
    [Id(3)] public string? CheckpointHash { get; set; }
    [Id(4)] public string? Result { get; set; }
    [Id(5)] public bool Stopped { get; set; }

    // What settling the slot's lease needs: when it ran, and how it ended.
    [Id(6)] public DateTimeOffset? StartedAt { get; set; }
    [Id(7)] public DateTimeOffset? EndedAt { get; set; }
    [Id(8)] public DateTimeOffset? CheckpointAt { get; set; }
    [Id(9)] public bool Abandoned { get; set; }
    [Id(10)] public bool Disagreed { get; set; }
    [Id(11)] public bool Failed { get; set; }

    /// <summary>Not running: stopped, or finished with a result (which a stop does not undo).</summary>
    public bool Idle => Stopped || Result is not null;
}

/// <summary>A shard's accepted checkpoint, blob included: a new attempt resumes from it.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.StoredCheckpoint")]
public sealed record StoredCheckpoint(
    [property: Id(0)] int Shard,
    [property: Id(1)] WorkCheckpoint Checkpoint,
    [property: Id(2)] DateTimeOffset At);

/// <summary>The current attempt is winding down: its slots checkpoint and stop, then the job queues again.</summary>
/// <param name="Failure">The attempt failed (counts toward the retry limit and waits out a backoff).</param>
/// <param name="Deadline">Slots that have not stopped by then are taken as stopped.</param>
[GenerateSerializer, Immutable, Alias("DePIN.Stopping")]
public sealed record Stopping([property: Id(0)] string Reason, [property: Id(1)] bool Failure, [property: Id(2)] DateTimeOffset Deadline);

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
    [Id(10)] public List<StoredCheckpoint> Checkpoints { get; set; } = [];
    [Id(11)] public SlotState[] Slots { get; set; } = [];
    [Id(12)] public int Failures { get; set; }
    [Id(13)] public string? Result { get; set; }
    [Id(14)] public Stopping? Stopping { get; set; }
    [Id(15)] public DateTimeOffset PlacedAt { get; set; }
    [Id(16)] public DateTimeOffset NotBefore { get; set; }

    /// <summary>The last attempt whose lease was settled (paid, bonused, slashed, judged).</summary>
    [Id(17)] public int SettledAttempt { get; set; }

    /// <summary>The escrow's remainder went back to the tenant: the job's money is closed.</summary>
    [Id(18)] public bool Refunded { get; set; }

    public bool Exists => Spec is not null;
}

/// <summary>
/// One job: its spec and lifecycle, and the attempts that run it. An attempt is a set of replica slots the scheduler
/// placed on nodes; the job hands each slot to its node's inbox, takes the agents' reports (progress, checkpoints,
/// results), verifies results by majority when it runs copies, and when an attempt must end early (a node was lost or
/// drains, higher-priority work preempts it, a replica failed) it has the other slots checkpoint and stop before it
/// queues again, so that no slot ever runs twice at once. Every change is written before it is acknowledged or
/// announced, and mirrored into the tenant's job index.
/// </summary>
public sealed partial class JobGrain(
    [PersistentState("job", StorageNames.Jobs)] IPersistentState<JobState> state,
    PlatformClock clock,
    IOptions<JobOptions> options,
    IOptions<EconomyOptions> economy,
    DePINMetrics metrics,
    ILogger<JobGrain> logger)
    : Grain, IJobGrain, IRemindable
{
    /// <summary>
    /// The job checks on itself from its submission until it ends, queued, placed, running or stopping: the scheduler's
    /// watchdog does so more often, but only while the scheduler is active and holds the job's nodes.
    /// </summary>
    private const string WatchReminder = "watch";

    private readonly JobOptions _options = options.Value;

    private JobState Job => state.State;

    private string Tenant = "";
    private string JobId = "";

    private string Key => this.GetPrimaryKeyString();

    private IGrainTimer? _requeueRetry;

    private bool Active => Job.Status is JobStatus.Placed or JobStatus.Running;

    /// <summary>Queued, for its first attempt or after one: the scheduler must hold the next attempt in its queue.</summary>
    private bool AwaitsNextAttempt => Job.Exists && Job.Status == JobStatus.Queued;

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

        if (!TenantName.IsValid(Tenant))
        {
            throw new ArgumentException($"'{Tenant}' is not a tenant name.");
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
            if (Job.Status == JobStatus.Queued && Job.Attempts == 0)
            {
                await WatchItself();
                await Scheduler.Enqueue(Key, spec);
            }

            return new SubmitResult(SubmitOutcome.AlreadySubmitted, Details());
        }

        // The escrow first: a job exists only once its first attempt is paid for. A retry finds the posting done.
        if (Budget(spec) is > 0 and var budget)
        {
            await Ledger.Open([Escrow]);
            var funded = await Ledger.Post(LedgerPostings.ToRequest(Settlement.Escrow(EscrowId(1), Tenant, Escrow, budget)));
            if (!funded.Accepted && funded.Status != PostingStatus.Conflict)
            {
                return new SubmitResult(SubmitOutcome.InsufficientFunds, null,
                    $"Escrow of {budget} microcredits (price cap × {SlotsFunded(spec)} slots × {spec.EstimatedSeconds} s) could not be funded from {AccountId.Tenant(Tenant)}: {funded.Detail}");
            }
        }

        Job.Spec = spec;
        Job.SubmittedAt = clock.UtcNow;
        var queued = await Move(JobStatus.Queued, null, Job.SubmittedAt) with { Previous = null };
        await WatchItself(); // should the scheduler lose the job before placing it, the job's check queues it again
        await Scheduler.Enqueue(Key, spec);
        await Announce(queued);
        LogSubmitted(JobId, Tenant, spec.Kind, spec.Replicas);
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

        await End(JobStatus.Cancelled, reason);
        return Details();
    }

    public async Task<bool> Placed(int attempt, JobAssignment[] assignments)
    {
        // Runs interleaved: decide and change state before the first await.
        if (Job.Exists && attempt == Job.Attempts && Active)
        {
            return true; // the scheduler telling again what it told before
        }

        if (!Job.Exists || Job.Status != JobStatus.Queued || attempt != Job.Attempts + 1)
        {
            return false;
        }

        Job.Attempts = attempt;
        Job.Stopping = null;
        Job.Assignments = [.. assignments.Select(a => a with { Attempt = attempt })];
        Job.Slots = [.. assignments.Select(_ => new SlotState())];
        Job.PlacedAt = clock.UtcNow;
        var change = await Move(JobStatus.Placed, null);
        await WatchItself(); // registered at submission too; again for jobs submitted before that was so
        await Dispatch();
        await Announce(change);
        return true;
    }

    public async Task Interrupted(string nodeId, NodeStatus status, string reason)
    {
        // News of a node the attempt does not hold (an earlier attempt's, arriving late) is not this attempt's loss.
        if (!Job.Exists || !Active || !Job.Assignments.Any(a => a.NodeId == nodeId))
        {
            return;
        }

        if (status == NodeStatus.Offline)
        {
            // The node's agent holds a lease shorter than the silence that made it offline: it has stopped already.
            // Gone without a drain notice in the middle of its work, it abandoned the lease.
            foreach (var (slot, i) in Job.Slots.Select((s, i) => (s, i)).Where(x => Job.Assignments[x.i].NodeId == nodeId))
            {
                slot.Abandoned |= slot.Started && !slot.Idle;
                slot.Stopped = true;
                slot.EndedAt ??= clock.UtcNow;
            }
        }

        // The scheduler (on the node's event) and the job's own check may both find the loss: BeginStop counts it once.
        await BeginStop(reason, failure: false, counted: status == NodeStatus.Offline ? "node_offline" : status.ToString().ToLowerInvariant());
    }

    public Task Preempt(string reason) => Job.Exists && Active ? BeginStop(reason, failure: false, counted: "preempted") : Task.CompletedTask;

    public async Task<ReportOutcome> Report(WorkReport report)
    {
        if (!Job.Exists)
        {
            return ReportOutcome.UnknownJob;
        }

        if (IsFinal(Job.Status))
        {
            await Settle(); // an agent retrying its last report may be all that is left to finish an interrupted ending
            return ReportOutcome.Superseded;
        }

        if (!Active || report.Attempt != Job.Attempts || report.Slot < 0 || report.Slot >= Job.Slots.Length ||
            Job.Assignments[report.Slot].NodeId != report.NodeId || Job.Slots[report.Slot].Stopped)
        {
            return ReportOutcome.Superseded;
        }

        var slot = Job.Slots[report.Slot];
        slot.Step = Math.Max(slot.Step, report.Step);
        if (report.Checkpoint is { } checkpoint && WorkRules.IsCheckpoint(checkpoint))
        {
            TakeCheckpoint(report.Slot, checkpoint);
        }

        switch (report.Kind)
        {
            case WorkReportKind.Started:
                slot.Started = true;
                slot.StartedAt ??= clock.UtcNow;
                if (Job.Status == JobStatus.Placed && Job.Slots.All(s => s.Started))
                {
                    await Announce(await Move(JobStatus.Running, null));
                    return ReportOutcome.Accepted;
                }

                break;
            case WorkReportKind.Completed when slot.Result is null && WorkRules.IsHash(report.ResultHash):
                slot.Started = true;
                slot.StartedAt ??= clock.UtcNow;
                slot.EndedAt = clock.UtcNow;
                slot.Result = report.ResultHash;
                if (Job.Slots.All(s => s.Result is not null))
                {
                    await Verify();
                    return ReportOutcome.Accepted;
                }

                break;
            case WorkReportKind.Stopped:
                slot.Stopped = true;
                slot.EndedAt ??= clock.UtcNow;
                await BeginStop(Job.Stopping?.Reason ?? $"Replica {report.Slot} was stopped by node {report.NodeId}'s agent.", failure: false,
                    counted: Job.Stopping is null ? "agent_stopped" : null);
                return ReportOutcome.Accepted;
            case WorkReportKind.Failed:
                slot.Stopped = true;
                slot.Failed = true;
                slot.EndedAt ??= clock.UtcNow;
                LogReplicaFailed(JobId, report.Slot, report.NodeId, report.Error);
                await BeginStop($"Replica {report.Slot} failed on node {report.NodeId}: {report.Error}", failure: true, counted: "replica_failed");
                await TellNodeWorkFailed(report.NodeId);
                return ReportOutcome.Accepted;
        }

        Job.UpdatedAt = clock.UtcNow;
        await state.WriteStateAsync();
        return ReportOutcome.Accepted;
    }

    public Task<bool> Holds(string nodeId, int slot, int attempt) => Task.FromResult(
        Job.Exists && Active && attempt == Job.Attempts && slot >= 0 && slot < Job.Slots.Length &&
        Job.Assignments[slot].NodeId == nodeId && !Job.Slots[slot].Stopped);

    public async Task Check()
    {
        if (AwaitsNextAttempt)
        {
            await Requeue(); // the scheduler may have lost the job, or the request for its next attempt (idempotent)
            return;
        }

        if (!Job.Exists || !Active)
        {
            await Settle();
            return;
        }

        await Index(); // heals an index write lost in a crash

        if (Job.Stopping is { } stopping)
        {
            if (clock.UtcNow >= stopping.Deadline)
            {
                // Agents that never answered have lost their lease by now.
                foreach (var slot in Job.Slots)
                {
                    slot.Stopped = true;
                }
            }

            if (Job.Slots.All(s => s.Idle))
            {
                await FinishStop();
            }
            else
            {
                await StopSlots();
            }

            return;
        }

        if (Job.Status == JobStatus.Placed && clock.UtcNow - Job.PlacedAt > _options.StartTimeout)
        {
            // A node that was lost while the placement was being announced never starts its slot: move on without it.
            foreach (var slot in Job.Slots.Where(s => !s.Started))
            {
                slot.Stopped = true;
            }

            await BeginStop($"Not every replica started within {_options.StartTimeout.TotalSeconds:0} s; the job resumes elsewhere.", failure: false,
                counted: "not_started");
            return;
        }

        if (await LostNode() is { } lost)
        {
            // The scheduler evacuates on the node's status event, which a dying silo can drop: ask the node itself.
            await Interrupted(lost.NodeId, lost.Status,
                $"Node {lost.NodeId} went {lost.Status.ToString().ToLowerInvariant()}; the job resumes elsewhere from its checkpoints.");
            return;
        }

        if (Job.Slots.Length > 0 && Job.Slots.All(s => s.Result is not null))
        {
            await Verify(); // every result is in, but the verification did not finish (it failed, or a crash came first)
            return;
        }

        await Dispatch(); // heals an inbox write lost in a crash; a no-op for slots already there
    }

    /// <summary>A node holding one of the attempt's unfinished slots that is offline, draining or quarantined.</summary>
    private async Task<(string NodeId, NodeStatus Status)?> LostNode()
    {
        var holding = Job.Assignments.Where((_, i) => i < Job.Slots.Length && Job.Slots[i].Result is null && !Job.Slots[i].Stopped)
            .Select(a => a.NodeId).Distinct(StringComparer.Ordinal);
        foreach (var nodeId in holding)
        {
            var node = await GrainFactory.GetGrain<INodeGrain>(nodeId).GetDetails();
            if (node?.Status is NodeStatus.Offline or NodeStatus.Draining or NodeStatus.Quarantined)
            {
                return (nodeId, node.Status);
            }
        }

        return null;
    }

    private ISchedulerGrain Scheduler => GrainFactory.Ref<ISchedulerGrain>(ISchedulerGrain.Key);

    private INodeWorkGrain Inbox(string nodeId) => GrainFactory.Ref<INodeWorkGrain>(nodeId);

    /// <summary>Whether a job in this status will never change again.</summary>
    public static bool IsFinal(JobStatus status) => status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;

    private int Copies => Job.Assignments.Length / Job.Spec!.Replicas;

    private int ShardOf(int slot) => slot % Job.Spec!.Replicas;

    private Task Dispatch()
    {
        var spec = Job.Spec!;
        var every = spec.Batch is { } batch && spec.CheckpointSeconds > 0
            ? Math.Max(1, (long)Math.Ceiling(batch.Steps * spec.CheckpointSeconds / spec.EstimatedSeconds))
            : 0;
        // Only slots not yet started: a started one is in its agent's hands already.
        return Task.WhenAll(Job.Assignments.Where((_, i) => !Job.Slots[i].Started).Select(a =>
        {
            var shard = ShardOf(a.Replica);
            var resume = Job.Checkpoints.Find(c => c.Shard == shard)?.Checkpoint;
            return Inbox(a.NodeId).Assign(new WorkItem(Key, a.Replica, shard, a.Attempt, spec.Kind, spec.Batch, every, resume, Stop: false, spec.Inference));
        }));
    }

    /// <summary>
    /// Keeps a slot's checkpoint as its shard's when a majority of the shard's copies reported the same one: a single
    /// node cannot poison what every later attempt resumes from.
    /// </summary>
    private void TakeCheckpoint(int slotIndex, WorkCheckpoint checkpoint)
    {
        var slot = Job.Slots[slotIndex];
        slot.CheckpointStep = checkpoint.Step;
        slot.CheckpointHash = checkpoint.ContentHash;
        slot.CheckpointAt = clock.UtcNow;
        var shard = ShardOf(slotIndex);
        var same = Enumerable.Range(0, Job.Slots.Length)
            .Count(i => ShardOf(i) == shard && Job.Slots[i].CheckpointStep == checkpoint.Step && Job.Slots[i].CheckpointHash == checkpoint.ContentHash);
        var current = Job.Checkpoints.Find(c => c.Shard == shard);
        if (same * 2 > Copies && (current is null || current.Checkpoint.Step < checkpoint.Step))
        {
            Job.Checkpoints.RemoveAll(c => c.Shard == shard);
            Job.Checkpoints.Add(new StoredCheckpoint(shard, checkpoint, clock.UtcNow));
        }
    }

    /// <summary>Every slot reported a result: the majority of each shard's copies wins, and the nodes are judged.</summary>
    private async Task Verify()
    {
        var spec = Job.Spec!;
        var winners = new string?[spec.Replicas];
        for (var shard = 0; shard < spec.Replicas; shard++)
        {
            var slots = Enumerable.Range(0, Job.Slots.Length).Where(i => ShardOf(i) == shard).ToArray();
            var verdict = Verification.Majority([.. slots.Select(i => Job.Slots[i].Result!)]);
            winners[shard] = verdict.Winner;
            foreach (var i in verdict.Disagreed)
            {
                Job.Slots[slots[i]].Disagreed = true; // judged, paid and slashed when the attempt settles
                LogDisagreed(JobId, Job.Assignments[slots[i]].NodeId);
            }
        }

        if (winners.Any(w => w is null))
        {
            foreach (var slot in Job.Slots)
            {
                slot.Stopped = true;
            }

            await BeginStop("The replicas' results disagreed with no majority.", failure: true, counted: "no_majority");
            return;
        }

        // Every worker of a training job reports the model its coordinator registered: that model is the result.
        Job.Result = spec.Kind == JobKind.Training && winners.Distinct().Count() == 1
            ? winners[0]
            : Verification.Combine([.. winners.Select(w => w!)]);
        await End(JobStatus.Succeeded, null);
    }

    /// <summary>
    /// Starts winding the attempt down; once every slot has stopped, the job queues again. A <paramref name="counted"/>
    /// reason goes to <c>depin_job_interruptions_total</c>, once per attempt however many callers find the same loss.
    /// </summary>
    private async Task BeginStop(string reason, bool failure, string? counted = null)
    {
        if (counted is not null && Job.Stopping is null)
        {
            metrics.JobInterrupted(counted);
        }

        if (Job.Stopping is not null)
        {
            await state.WriteStateAsync(); // slots marked stopped meanwhile
            if (Job.Slots.All(s => s.Idle))
            {
                await FinishStop();
            }

            return;
        }

        if (failure && Job.Failures + 1 >= _options.MaxFailures)
        {
            Job.Failures++;
            await End(JobStatus.Failed, $"{reason} Gave up after {Job.Failures} failed attempts.");
            return;
        }

        Job.Failures += failure ? 1 : 0;
        Job.Stopping = new Stopping(reason, failure, clock.UtcNow + _options.StopGrace);
        Job.Reason = reason;
        Job.UpdatedAt = clock.UtcNow;
        await state.WriteStateAsync();
        if (Job.Slots.All(s => s.Idle))
        {
            await FinishStop();
            return;
        }

        await StopSlots();
    }

    private Task StopSlots() => Task.WhenAll(Job.Assignments.Where((_, i) => !Job.Slots[i].Idle)
        .Select(a => a.NodeId).Distinct(StringComparer.Ordinal).Select(node => Inbox(node).Stop(Key, Job.Attempts)));

    /// <summary>Every slot has stopped: free the nodes and queue again (after a backoff when the attempt failed).</summary>
    private async Task FinishStop()
    {
        var stopping = Job.Stopping!;
        await SettleAttempt();
        if (!await FundNextAttempt())
        {
            await End(JobStatus.Failed, $"{stopping.Reason} The tenant's balance cannot fund another attempt.");
            return;
        }

        await Withdraw();
        Job.Stopping = null;
        Job.Assignments = [];
        Job.Slots = [];
        Job.NotBefore = clock.UtcNow + (stopping.Failure ? Backoff(Job.Failures) : TimeSpan.Zero);
        await Announce(await Move(JobStatus.Queued, stopping.Reason));

        // Queued first, then the scheduler: if this call is lost, the job asks again (see Requeue).
        await Requeue();
    }

    /// <summary>
    /// Asks the scheduler to queue the next attempt. A call that fails (the scheduler's silo died under it, the
    /// database is down) is asked again every <see cref="JobOptions.RequeueRetry"/> by a timer of this activation until
    /// it succeeds; should the activation go too, the job's reminder (and the scheduler's watchdog, while it holds the
    /// old attempt's nodes) has the job check on itself, which asks again. The job is Queued and written either way,
    /// so its caller is not failed for the scheduler's sake.
    /// </summary>
    private async Task Requeue()
    {
        try
        {
            await Scheduler.Requeue(Key, Job.Spec!, Job.Attempts + 1, Job.NotBefore);
            StopRetrying();
        }
        catch (Exception ex) when (ex is not ObjectDisposedException)
        {
            LogRequeueFailed(ex, JobId, Job.Attempts + 1);
            _requeueRetry ??= this.RegisterGrainTimer(RetryRequeue, new GrainTimerCreationOptions(_options.RequeueRetry, _options.RequeueRetry));
        }
    }

    private Task RetryRequeue(CancellationToken cancellationToken)
    {
        if (AwaitsNextAttempt)
        {
            return Requeue();
        }

        StopRetrying(); // placed, cancelled or ended meanwhile
        return Task.CompletedTask;
    }

    private void StopRetrying()
    {
        _requeueRetry?.Dispose();
        _requeueRetry = null;
    }

    private Task WatchItself() => this.RegisterOrUpdateReminder(WatchReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != WatchReminder)
        {
            return;
        }

        await Check();
        if ((!Job.Exists || IsFinal(Job.Status)) && await this.GetReminder(WatchReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    /// <summary>The wait before the n-th retry: 10 s doubling to at most 10 min.</summary>
    public static TimeSpan Backoff(int failures) =>
        TimeSpan.FromSeconds(Math.Min(600, 10 * Math.Pow(2, Math.Max(0, failures - 1))));

    private async Task End(JobStatus status, string? reason)
    {
        Job.Stopping = null;
        var change = await Move(status, reason);
        await Settle();
        await Announce(change);
    }

    /// <summary>
    /// What follows the end of a job, each step idempotent: the index shows it, and its nodes' inboxes and the
    /// scheduler let go. Until the scheduler has let go it keeps checking on the job, which repeats this; so does a
    /// late report.
    /// </summary>
    private async Task Settle()
    {
        if (Job.Exists && IsFinal(Job.Status))
        {
            await SettleAttempt();
            await Refund();
            await Index();
            await Withdraw();
            await Scheduler.Release(Key);
        }
    }

    private ILedgerGrain Ledger => GrainFactory.GetGrain<ILedgerGrain>(0);

    private string Escrow => AccountId.Escrow(Tenant, JobId);

    private string EscrowId(int attempt) => $"escrow:{Key}:{attempt}";

    /// <summary>Slots escrow covers: the gang times the most copies its verification may run.</summary>
    private static int SlotsFunded(JobSpec spec) => spec.Replicas * Reputation.MostCopies(spec.Verification.Redundancy, spec.Verification.Adaptive);

    /// <summary>What one attempt may cost at most: the price cap for every slot it may run, for the estimated time.</summary>
    private static long Budget(JobSpec spec) =>
        Settlement.Budget(AccountId.Microcredits(spec.MaxPricePerReplicaHour), SlotsFunded(spec), spec.EstimatedSeconds);

    /// <summary>
    /// Settles the current attempt once: each slot's verified replica-hours are paid from escrow at its lease rate
    /// (less the platform's fee), with the availability bonus from the treasury; a node that returned a result the
    /// majority did not, or vanished mid-lease without a drain notice, is paid nothing and slashed; and every node's
    /// evidence (agreed, disagreed, delivered, abandoned) moves its reputation. Postings have ids derived from the
    /// attempt, so a repeat after a crash posts nothing twice (a conflict means an earlier run posted it).
    /// </summary>
    private async Task SettleAttempt()
    {
        if (Job.Attempts <= Job.SettledAttempt || Job.Assignments.Length == 0 || Job.Slots.Length != Job.Assignments.Length)
        {
            return;
        }

        var rules = economy.Value.Rules;
        var now = clock.UtcNow;
        var succeeded = Job.Status == JobStatus.Succeeded;
        var outcomes = Job.Slots.Select((slot, i) => Outcome(slot, i, succeeded, now)).ToArray();
        var copies = Copies;
        var nodes = Job.Assignments.Select(a => a.NodeId).Distinct(StringComparer.Ordinal).ToArray();
        await Ledger.Open([AccountId.Tenant(Tenant), Escrow, .. nodes.Select(AccountId.Provider), .. nodes.Select(AccountId.Stake)]);

        // Evidence first, which also gives each node's reputation as of now for its bonus. Its id is the attempt's,
        // so a settlement repeated after a crash or a failed call moves no reputation twice.
        var reputations = await Task.WhenAll(nodes.Select(node =>
        {
            var mine = Enumerable.Range(0, outcomes.Length).Where(i => Job.Assignments[i].NodeId == node).ToList();
            return GrainFactory.GetGrain<INodeGrain>(node).RecordEvidence($"job:{Key}:{Job.Attempts}", new ReputationEvidence(
                Agreed: mine.Count(i => succeeded && copies > 1 && Job.Slots[i].Result is not null && !Job.Slots[i].Disagreed),
                Disagreed: mine.Count(i => Job.Slots[i].Disagreed),
                Delivered: mine.Count(i => outcomes[i].Outcome == SlotOutcome.Verified),
                Abandoned: mine.Count(i => Job.Slots[i].Abandoned)));
        }));
        var reputation = nodes.Zip(reputations).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
        var leases = outcomes.Select((o, i) => new SlotLease(Job.Assignments[i].NodeId, Job.Assignments[i].Rate, Job.Assignments[i].Forecast,
            reputation[Job.Assignments[i].NodeId], o.Hours, o.Outcome)).ToList();

        var escrow = (await Ledger.GetAccount(Escrow))?.Balance ?? 0;
        var treasury = (await Ledger.GetAccount(AccountId.Treasury))?.Balance ?? 0;
        var gross = Settlement.Gross(leases, escrow);
        var postings = new List<(Posting Posting, string? Slash)>();
        var lease = Settlement.Lease($"lease:{Key}:{Job.Attempts}", Escrow, gross, rules);
        if (lease is not null)
        {
            postings.Add((lease, null));
            treasury += lease.Entries.Where(e => e.Account == AccountId.Treasury).Sum(e => e.Credit); // the fee lands first
        }

        if (Settlement.Bonus($"bonus:{Key}:{Job.Attempts}", leases, gross, treasury, rules) is { } bonus)
        {
            postings.Add((bonus, null));
        }

        foreach (var (node, reason) in leases.Where(l => l.Outcome is SlotOutcome.Disagreed or SlotOutcome.Abandoned)
                     .Select(l => (l.NodeId, l.Outcome == SlotOutcome.Disagreed ? "disagreed" : "abandoned")).Distinct())
        {
            var stake = (await Ledger.GetAccount(AccountId.Stake(node)))?.Balance ?? 0;
            if (Settlement.Slash($"slash:{Key}:{Job.Attempts}:{node}", node, stake, Tenant, rules,
                    $"job {JobId} attempt {Job.Attempts}: {reason}") is { } slash)
            {
                postings.Add((slash, reason));
            }
        }

        if (postings.Count > 0)
        {
            var results = await Ledger.PostMany([.. postings.Select(p => LedgerPostings.ToRequest(p.Posting))]);
            foreach (var ((posting, slash), result) in postings.Zip(results))
            {
                if (result.Status == PostingStatus.Posted && slash is not null)
                {
                    metrics.Slashed(slash);
                }
                else if (!result.Accepted && result.Status != PostingStatus.Conflict)
                {
                    LogNotPosted(posting.Id, result.Status, result.Detail); // a bonus the treasury could not pay, say
                }
            }
        }

        Job.SettledAttempt = Job.Attempts;
        await state.WriteStateAsync();
    }

    /// <summary>How a slot ended and the replica-hours of its work that were verified.</summary>
    private (SlotOutcome Outcome, double Hours) Outcome(SlotState slot, int index, bool succeeded, DateTimeOffset now)
    {
        if (slot.Disagreed)
        {
            return (SlotOutcome.Disagreed, 0);
        }

        if (slot.Abandoned)
        {
            return (SlotOutcome.Abandoned, 0);
        }

        if (slot.Failed || slot.StartedAt is not { } started)
        {
            return (SlotOutcome.Unverified, 0);
        }

        double Hours(DateTimeOffset? until) => Math.Max(0, ((until ?? now) - started).TotalHours);
        if (succeeded && slot.Result is not null)
        {
            return (SlotOutcome.Verified, Hours(slot.EndedAt));
        }

        // Stopped early: paid up to the checkpoint it agreed on, which the next attempt resumes from.
        var accepted = Job.Checkpoints.Find(c => c.Shard == ShardOf(index));
        if (accepted is not null && slot.CheckpointAt is { } at && at >= started &&
            accepted.Checkpoint.Step == slot.CheckpointStep && accepted.Checkpoint.ContentHash == slot.CheckpointHash)
        {
            return (SlotOutcome.Verified, Hours(at));
        }

        // Serving has no result to check: its time is the work, paid until it was stopped.
        return Job.Spec!.Kind == JobKind.Inference ? (SlotOutcome.Verified, Hours(slot.EndedAt)) : (SlotOutcome.Unverified, 0);
    }

    /// <summary>Tops escrow back up to a full attempt's budget before the job queues again; false when the tenant cannot.</summary>
    private async Task<bool> FundNextAttempt()
    {
        var budget = Budget(Job.Spec!);
        var left = (await Ledger.GetAccount(Escrow))?.Balance ?? 0;
        if (budget <= 0 || left >= budget)
        {
            return true;
        }

        var topUp = await Ledger.Post(LedgerPostings.ToRequest(Settlement.Escrow(EscrowId(Job.Attempts + 1), Tenant, Escrow, budget - left)));
        return topUp.Accepted || topUp.Status == PostingStatus.Conflict;
    }

    /// <summary>The job has ended: what is left in escrow goes back to the tenant, once.</summary>
    private async Task Refund()
    {
        if (Job.Refunded)
        {
            return;
        }

        var left = (await Ledger.GetAccount(Escrow))?.Balance ?? 0;
        if (Settlement.Refund($"refund:{Key}", Tenant, Escrow, left) is { } refund)
        {
            var result = await Ledger.Post(LedgerPostings.ToRequest(refund));
            if (!result.Accepted && result.Status != PostingStatus.Conflict)
            {
                throw new InvalidOperationException($"The refund of job {Key} was refused: {result.Status} {result.Detail}");
            }
        }

        Job.Refunded = true;
        await state.WriteStateAsync();
    }

    private Task Withdraw() =>
        Task.WhenAll(Job.Assignments.Select(a => a.NodeId).Distinct(StringComparer.Ordinal)
            .Select(node => Inbox(node).Withdraw(Key, Job.Attempts)));

    /// <summary>
    /// Changes the status (synchronously, before the first await, so interleaved calls see it), then writes the state
    /// and mirrors it into the tenant's index. Returns the change as an event, taken before anything interleaves.
    /// </summary>
    private async Task<JobEvent> Move(JobStatus to, string? reason, DateTimeOffset? at = null)
    {
        var change = new JobEvent(JobId, to, Job.Status, at ?? clock.UtcNow, reason);
        Job.Status = to;
        Job.Reason = reason;
        Job.UpdatedAt = change.At;
        await state.WriteStateAsync();
        LogMoved(JobId, Tenant, change.Previous, to, Job.Attempts, reason);
        await Index();
        return change;
    }

    private JobDetails Details() => new(
        JobId, Tenant, Job.Spec!, Job.Status, Job.Reason, Job.SubmittedAt, Job.UpdatedAt, Job.Attempts,
        Active ? Job.Assignments : [], Progress(),
        [.. Job.Checkpoints.OrderBy(c => c.Shard).Select(c => new JobCheckpoint(c.Shard, c.Checkpoint.Step, c.Checkpoint.ContentHash, c.At))],
        Job.Failures, Job.Result);

    /// <summary>The share of the work done: per shard the furthest of its checkpoint and its copies, averaged.</summary>
    private double Progress()
    {
        if (Job.Status == JobStatus.Succeeded)
        {
            return 1;
        }

        if (Job.Spec!.Training is { } training)
        {
            // Slots report the rounds they took part in: the furthest of them over the most rounds.
            return Job.Slots.Length == 0 ? 0 : Math.Min(1, Job.Slots.Max(s => s.Step) / (double)training.Rounds);
        }

        if (Job.Spec.Batch is not { } batch)
        {
            return 0;
        }

        var done = 0.0;
        for (var shard = 0; shard < Job.Spec.Replicas; shard++)
        {
            var step = Job.Checkpoints.Find(c => c.Shard == shard)?.Checkpoint.Step ?? 0;
            for (var i = shard; i < Job.Slots.Length; i += Job.Spec.Replicas)
            {
                step = Math.Max(step, Job.Slots[i].Step);
            }

            done += Math.Min(1, (double)step / batch.Steps);
        }

        return done / Job.Spec.Replicas;
    }

    private Task Index() => TenantJobs.Shard(GrainFactory, Tenant, JobId)
        .Upsert(new JobSummary(JobId, Tenant, Job.Spec!.Kind, Job.Status, Job.SubmittedAt, Job.UpdatedAt));

    private async Task Announce(JobEvent change)
    {
        // Events are notifications; the job's state, already written, is the record.
        try
        {
            await this.GetStreamProvider(StreamNames.Provider)
                .GetStream<JobEvent>(StreamId.Create(StreamNames.JobEvents, Tenant))
                .OnNextAsync(change);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogEventLost(ex, JobId, change.Status);
        }
    }

    // Failed work is a sign the failure model learns from; a node grain that cannot be told now misses one example.
    private async Task TellNodeWorkFailed(string nodeId)
    {
        try
        {
            await GrainFactory.GetGrain<INodeGrain>(nodeId).WorkFailed();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogNodeNotTold(ex, nodeId);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Posting {PostingId} was not made: {Status} {Detail}")]
    private partial void LogNotPosted(string postingId, PostingStatus status, string? detail);

    [LoggerMessage(LogLevel.Warning, "Node {NodeId} could not be told that its work failed")]
    private partial void LogNodeNotTold(Exception ex, string nodeId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} could not ask the scheduler for attempt {Attempt}; asking again shortly")]
    private partial void LogRequeueFailed(Exception exception, string jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} of {Tenant}: {From} -> {To} after {Attempts} attempt(s) ({Reason})")]
    private partial void LogMoved(string jobId, string tenant, JobStatus? from, JobStatus to, int attempts, string? reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} submitted by {Tenant}: {Kind}, {Replicas} replica(s)")]
    private partial void LogSubmitted(string jobId, string tenant, JobKind kind, int replicas);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Status} event of job {JobId} was not published")]
    private partial void LogEventLost(Exception exception, string jobId, JobStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: replica {Slot} failed on node {NodeId}: {Error}")]
    private partial void LogReplicaFailed(string jobId, int slot, string nodeId, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: node {NodeId} returned a result the majority did not")]
    private partial void LogDisagreed(string jobId, string nodeId);
}

/// <summary>How jobs retry and wind down: configuration section <c>Jobs</c>.</summary>
public sealed class JobOptions
{
    public const string Section = "Jobs";

    /// <summary>Failed attempts after which a job fails for good.</summary>
    public int MaxFailures { get; set; } = 4;

    /// <summary>How long slots asked to stop get to checkpoint and answer before they are taken as stopped.</summary>
    public TimeSpan StopGrace { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a placed job's slots have to start before the job moves elsewhere (checked by the watchdog).</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How often the scheduler has each job it holds nodes for check on itself (stop deadlines, start timeouts,
    /// inboxes lost in a crash, unfinished clean-up), spread evenly over the period.
    /// </summary>
    public TimeSpan WatchdogPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How soon a job whose request for its next attempt failed asks the scheduler again.</summary>
    public TimeSpan RequeueRetry { get; set; } = TimeSpan.FromSeconds(5);
}
