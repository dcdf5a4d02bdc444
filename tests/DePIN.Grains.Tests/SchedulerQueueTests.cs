using DePIN.Abstractions;
using DePIN.Abstractions.Jobs;
using DePIN.Grains.Jobs;
using DePIN.Testing;
using Orleans.Core.Internal;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace DePIN.Grains.Tests;

/// <summary>
/// A job the scheduler took is always in its durable queue or in its allocation ledger, whichever calls fail or are
/// slow; a job the scheduler lost anyway is queued again by its own check; and a placement is told to its job however
/// the tellings of earlier ones end.
/// </summary>
/// <remarks>
/// One cluster for the class: each test arms the faults it needs and lets them go, and uses its own tenant and region,
/// so the scheduler's queue is read for the test's tenant only.
/// </remarks>
public sealed class SchedulerQueueTests(SchedulerQueueTests.QuickRetryCluster own) : IClassFixture<SchedulerQueueTests.QuickRetryCluster>
{
    /// <summary>Jobs ask the scheduler again 0.2 s after a failed request, not 5 s.</summary>
    public sealed class QuickRetryCluster() : NodeCluster(new Dictionary<string, string?> { ["Jobs:RequeueRetry"] = "00:00:00.2" });

    private static JobSpec Spec(string region) => TestJob.Spec(replicas: 1) with { Constraints = JobConstraints.None with { Regions = [region] } };

    [Fact]
    public async Task A_placed_job_stays_in_the_stored_queue_until_its_ledger_record_is_durable()
    {
        var tenant = await own.Tenant("queue-slow");
        await Fleet.Online(own, "record-slow", 1);
        own.Faults.Hold(nameof(IAllocationLedgerGrain.Record));
        var key = JobKey.For(tenant, "placed");

        await own.Sdk.SubmitJobAsync(tenant, "placed", Spec("record-slow"));
        await Wait.Until(() => Task.FromResult(own.Faults.Held(nameof(IAllocationLedgerGrain.Record))), n => n > 0, "the placement's ledger record");
        // Another job's submission writes the queue while the record is on its way. Were the scheduler's silo to die
        // now, the stored queue is all that would remember the placed job.
        await own.Sdk.SubmitJobAsync(tenant, "other", Spec("no-nodes"));
        // Nor is the job told of its placement yet, even when it checks on itself and asks: it would run on nodes
        // that a scheduler restarted now would not know it holds.
        await own.Client.GetGrain<IJobGrain>(key).Check();

        Assert.Equal([JobKey.For(tenant, "other"), key], (await StoredQueue(tenant)).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(JobStatus.Queued, (await own.Sdk.GetJobAsync(tenant, "placed"))!.Status);

        own.Faults.Release(nameof(IAllocationLedgerGrain.Record));
        var placed = await Wait.Until(() => own.Sdk.GetJobAsync(tenant, "placed"), j => j!.Status == JobStatus.Placed, "the job placed");
        Assert.Equal(1, placed!.Attempts);
        await Wait.Until(() => StoredQueue(tenant), q => !q.ContainsKey(key), "the placed job dropped from the stored queue");
    }

    [Fact]
    public async Task A_placement_whose_ledger_record_fails_is_undone_and_made_again()
    {
        var tenant = await own.Tenant("queue-lost");
        await Fleet.Online(own, "record-lost", 1);
        own.Faults.Fail(nameof(IAllocationLedgerGrain.Record), times: 1);

        await own.Sdk.SubmitJobAsync(tenant, "retried", Spec("record-lost"));

        var placed = await Wait.Until(() => own.Sdk.GetJobAsync(tenant, "retried"), j => j!.Status == JobStatus.Placed, "the job placed");
        Assert.Equal((1, 0), (placed!.Attempts, own.Faults.Left(nameof(IAllocationLedgerGrain.Record))));
        await Wait.Until(() => StoredQueue(tenant), q => q.Count == 0, "the placed job dropped from the stored queue"); // written after the telling
    }

    [Fact]
    public async Task A_queued_job_the_scheduler_does_not_have_is_queued_again_by_its_own_check()
    {
        var tenant = await own.Tenant("queue-stranded");
        await Fleet.Online(own, "enqueue-lost", 1);
        own.Faults.Fail(nameof(ISchedulerGrain.Enqueue), times: 1);
        var key = JobKey.For(tenant, "stranded");

        await Assert.ThrowsAsync<TimeoutException>(() => own.Sdk.SubmitJobAsync(tenant, "stranded", Spec("enqueue-lost")));

        // The job exists and is queued, but the scheduler never heard of it; its reminder, registered at submission,
        // is what checks on it (a minute apart, so the test makes the check itself).
        Assert.Equal(JobStatus.Queued, (await own.Sdk.GetJobAsync(tenant, "stranded"))!.Status);
        var reminders = await Silo.GetRequiredService<IReminderTable>().ReadRows(own.Client.GetGrain<IJobGrain>(key).GetGrainId());
        Assert.Equal(["watch"], reminders.Reminders.Select(r => r.ReminderName));
        Assert.Empty(await StoredQueue(tenant));

        await own.Client.GetGrain<IJobGrain>(key).Check();

        var placed = await Wait.Until(() => own.Sdk.GetJobAsync(tenant, "stranded"), j => j!.Status == JobStatus.Placed, "the job placed");
        Assert.Equal(1, placed!.Attempts);
    }

    [Fact]
    public async Task A_restarted_scheduler_tells_a_job_of_its_new_attempt_whatever_the_telling_of_the_old_one_does()
    {
        var tenant = await own.Tenant("queue-retold");
        // The scheduler's silo died after the job lost its node and before the job's request for attempt 2 arrived, so
        // the scheduler comes back with attempt 1 in its ledger and tells the job of it again, while the job asks for
        // attempt 2. Whichever comes first, the job must be told of attempt 2, and not have it freed by the answer
        // about attempt 1.
        var fleet = await Fleet.Online(own, "retold", 2);
        var key = JobKey.For(tenant, "retold");
        await own.Sdk.SubmitJobAsync(tenant, "retold", Spec("retold"));
        var first = await Wait.Until(() => own.Sdk.GetJobAsync(tenant, "retold"), j => j!.Status == JobStatus.Placed, "the job placed");
        var lost = fleet.Single(a => a.Id == first!.Assignments[0].NodeId);
        var survivor = fleet.Single(a => a != lost);

        own.Faults.Fail(nameof(ISchedulerGrain.Requeue), times: int.MaxValue);
        await Fleet.Silence(own, lost, survivor);
        await Wait.Until(() => own.Sdk.GetJobAsync(tenant, "retold"), j => j!.Status == JobStatus.Queued && j.Attempts == 1, "the job queued after attempt 1");
        own.Faults.Hold(nameof(IJobGrain.Placed));
        var scheduler = own.Client.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key);
        await scheduler.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        own.Faults.Fail(nameof(ISchedulerGrain.Requeue), times: 0);

        await Wait.Until(() => own.Client.GetGrain<IAllocationLedgerGrain>(AllocationLedger.Home(key)).All().AsTask(),
            held => held.TryGetValue(key, out var a) && a.Attempt == 2, "attempt 2 in the allocation ledger");
        own.Faults.Release(nameof(IJobGrain.Placed));

        var second = await Wait.Until(() => own.Sdk.GetJobAsync(tenant, "retold"), j => j!.Status == JobStatus.Placed && j.Attempts == 2,
            "the job told of attempt 2", TimeSpan.FromSeconds(20));
        Assert.Equal([survivor.Id], second!.Assignments.Select(a => a.NodeId));
    }

    private IServiceProvider Silo => ((InProcessSiloHandle)own.Cluster.Silos[0]).ServiceProvider;

    /// <summary>The tenant's jobs in the scheduler's queue as its storage holds it: what a new activation would start from.</summary>
    private async Task<Dictionary<string, QueuedJob>> StoredQueue(string tenant)
    {
        var stored = new GrainState<SchedulerState>();
        await Silo.GetRequiredKeyedService<IGrainStorage>(StorageNames.Jobs)
            .ReadStateAsync("scheduler", own.Client.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key).GetGrainId(), stored);
        return (stored.State?.Queue ?? []).Where(q => q.Key.StartsWith(tenant + "/", StringComparison.Ordinal)).ToDictionary();
    }
}
