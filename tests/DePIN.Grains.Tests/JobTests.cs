using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Testing;

namespace DePIN.Grains.Tests;

/// <summary>The job lifecycle through the SDK: idempotent submission, tenant isolation, cancellation, listing, events.</summary>
public sealed class JobTests(NodeCluster cluster) : IClassFixture<NodeCluster>
{
    // In a region without nodes these jobs stay queued, whatever nodes the class's other tests bring online.
    private static JobSpec Spec(int replicas = 2) =>
        TestJob.Spec(replicas, gpus: 1) with { Constraints = JobConstraints.None with { Regions = ["no-nodes"] } };

    [Fact]
    public async Task Submitting_the_same_id_twice_is_idempotent_and_a_different_spec_under_it_is_a_conflict()
    {
        var (acme, globex) = (await cluster.Tenant("acme-idempotent"), await cluster.Tenant("globex-idempotent"));
        var sdk = cluster.Sdk;

        var first = await sdk.SubmitJobAsync(acme, "train-1", Spec());
        var again = await sdk.SubmitJobAsync(acme, "train-1", Spec());
        var changed = await sdk.SubmitJobAsync(acme, "train-1", Spec(replicas: 3));
        var otherTenant = await sdk.SubmitJobAsync(globex, "train-1", Spec(replicas: 5));

        Assert.Equal(SubmitOutcome.Created, first.Outcome);
        Assert.Equal(JobStatus.Queued, first.Job!.Status);
        Assert.Equal(SubmitOutcome.AlreadySubmitted, again.Outcome);
        Assert.Equal(first.Job.SubmittedAt, again.Job!.SubmittedAt);
        Assert.Equal((SubmitOutcome.Conflict, (JobDetails?)null), (changed.Outcome, changed.Job));
        Assert.Equal(SubmitOutcome.Created, otherTenant.Outcome); // job ids are each tenant's own
        Assert.Equal(2, (await sdk.GetJobAsync(acme, "train-1"))!.Spec.Replicas);
        Assert.Equal(5, (await sdk.GetJobAsync(globex, "train-1"))!.Spec.Replicas);
    }

    [Fact]
    public async Task A_tenant_sees_and_cancels_only_its_own_jobs()
    {
        var (acme, globex) = (await cluster.Tenant("acme-own"), await cluster.Tenant("globex-own"));
        var sdk = cluster.Sdk;
        await sdk.SubmitJobAsync(acme, "job-a", Spec());

        Assert.Null(await sdk.GetJobAsync(globex, "job-a"));
        Assert.Null(await sdk.CancelJobAsync(globex, "job-a", "not mine"));
        Assert.Equal(JobStatus.Queued, (await sdk.GetJobAsync(acme, "job-a"))!.Status);
        Assert.Empty(await sdk.ListJobsAsync(globex).ToListAsync());
        await Assert.ThrowsAsync<KeyNotFoundException>(() => sdk.WatchJobAsync(globex, "job-a"));
    }

    [Fact]
    public async Task Cancelling_ends_the_job_once_announces_it_and_later_cancels_change_nothing()
    {
        var sdk = cluster.Sdk;
        await sdk.SubmitJobAsync("acme", "job-c", Spec());
        await using var watch = await sdk.WatchJobAsync("acme", "job-c");
        await using var events = watch.GetAsyncEnumerator();

        var cancelled = await sdk.CancelJobAsync("acme", "job-c", "no longer needed");
        var again = await sdk.CancelJobAsync("acme", "job-c", "twice");

        Assert.Equal(JobStatus.Cancelled, cancelled!.Status);
        Assert.Equal("no longer needed", again!.Reason);
        Assert.Equal(cancelled.UpdatedAt, again.UpdatedAt);
        // The submission's own Queued event may still be on its way when the watch begins: read past it.
        JobEvent? seen = null;
        while (seen?.Status != JobStatus.Cancelled)
        {
            Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20)), "the watch ended");
            seen = events.Current;
        }

        Assert.Equal((JobStatus.Queued, "no longer needed"), (seen.Previous, seen.Reason));
    }

    [Fact]
    public async Task Jobs_list_by_tenant_and_state()
    {
        var (acme, globex) = (await cluster.Tenant("acme-list"), await cluster.Tenant("globex-list"));
        var sdk = cluster.Sdk;
        foreach (var id in new[] { "b", "a", "c" })
        {
            await sdk.SubmitJobAsync(acme, id, Spec());
        }

        await sdk.SubmitJobAsync(globex, "z", Spec());
        await sdk.CancelJobAsync(acme, "b", "test");

        Assert.Equal(["a", "b", "c"], await sdk.ListJobsAsync(acme).Select(j => j.JobId).ToListAsync());
        Assert.Equal(["a", "c"], await sdk.ListJobsAsync(acme, JobStatus.Queued).Select(j => j.JobId).ToListAsync());
        Assert.Equal(["b"], await sdk.ListJobsAsync(acme, JobStatus.Cancelled).Select(j => j.JobId).ToListAsync());
        Assert.Equal(["z"], await sdk.ListJobsAsync(globex).Select(j => j.JobId).ToListAsync());
    }

    [Fact]
    public async Task An_invalid_spec_is_refused_with_the_bad_fields_and_creates_nothing()
    {
        var acme = await cluster.Tenant("acme-invalid");
        var bad = Spec(replicas: 0) with { Resources = new ReplicaResources(0, 4L << 30, -1, 0), EstimatedSeconds = -5 };

        var refused = await Assert.ThrowsAsync<InvalidJobSpecException>(() => cluster.Sdk.SubmitJobAsync(acme, "bad", bad));

        Assert.Equal(["estimatedSeconds", "replicas", "resources.cpuCores", "resources.gpus"], refused.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Null(await cluster.Sdk.GetJobAsync(acme, "bad"));
        Assert.Empty(await cluster.Sdk.ListJobsAsync(acme).ToListAsync());
    }

    [Fact]
    public Task When_a_placed_gang_loses_its_node_it_queues_again_and_resumes_on_another() => LoseNodeAndResume(cluster, "evac-1");

    [Fact]
    public async Task A_lost_request_for_the_next_attempt_is_asked_again_within_seconds_not_at_the_next_reminder()
    {
        // The scheduler's silo dies under the request, and the scheduler's watchdog checks on the job from there too
        // (lost as well); the job's reminder, which also heals it, takes a minute. The job must ask again itself.
        await using var own = await NodeCluster.Start(new Dictionary<string, string?> { ["Jobs:RequeueRetry"] = "00:00:00.2" });
        own.Faults.Fail(nameof(ISchedulerGrain.Requeue), times: 2);
        own.Faults.Fail(nameof(IJobGrain.Check), times: int.MaxValue);
        await LoseNodeAndResume(own, "evac-2", timeout: TimeSpan.FromSeconds(20));
        Assert.Equal(0, own.Faults.Left(nameof(ISchedulerGrain.Requeue)));
    }

    private static async Task LoseNodeAndResume(NodeCluster cluster, string region, TimeSpan? timeout = null)
    {
        using var first = TestNode.Create(region: region);
        using var second = TestNode.Create(region: region);
        long sequence = 0;
        foreach (var node in new[] { first, second })
        {
            await cluster.Node(node.Id).Register(node.Registration(cluster.Time.GetUtcNow()));
        }

        async Task Beat(params TestNode[] nodes)
        {
            sequence++;
            foreach (var node in nodes)
            {
                await cluster.Report(node.Batch(sequence, cluster.Time.GetUtcNow()));
                await Wait.Until(() => cluster.Node(node.Id).GetDetails().AsTask(), n => n!.LastSequence == sequence, $"batch {sequence} of {node.Id}");
            }
        }

        await Beat(first, second);
        cluster.Time.Advance(TimeSpan.FromSeconds(6)); // past the scheduler's directory refresh
        await Beat(first, second);
        var whole = Spec(replicas: 1) with
        {
            Resources = new ReplicaResources(8, 4L << 30, 1, 0),
            Constraints = JobConstraints.None with { Regions = [region] },
        };
        await cluster.Sdk.SubmitJobAsync("acme", "evac", whole);
        var placed = await Wait.Until(() => cluster.Sdk.GetJobAsync("acme", "evac"), j => j!.Status == JobStatus.Placed, "the job placed");
        var lost = placed!.Assignments[0].NodeId;
        var survivor = lost == first.Id ? second : first;
        var watchedFrom = cluster.Time.GetUtcNow();
        await using var watch = await cluster.Sdk.WatchJobAsync("acme", "evac");
        await using var events = watch.GetAsyncEnumerator();

        // The chosen node falls silent; the other keeps reporting. Offline after 6 intervals of 5 s.
        for (var step = 0; step < 4; step++)
        {
            cluster.Time.Advance(TimeSpan.FromSeconds(8));
            await Beat(survivor);
        }

        var moved = await Wait.Until(() => cluster.Sdk.GetJobAsync("acme", "evac"),
            j => j!.Status == JobStatus.Placed && j.Attempts == 2, "the job placed again", timeout);
        Assert.Equal(NodeStatus.Offline, (await cluster.Node(lost).GetDetails())!.Status);
        Assert.Equal([(survivor.Id, 2)], moved!.Assignments.Select(a => (a.NodeId, a.Attempt)));

        // The watch, attached before the node fell silent, saw the job leave its node and come back. (A new watch may
        // also be handed the stream's last event from before it began: skip those.)
        var seen = new List<JobEvent>();
        while (seen.Count < 2)
        {
            Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20)), "the watch ended");
            if (events.Current.At > watchedFrom)
            {
                seen.Add(events.Current);
            }
        }

        Assert.Equal([(JobStatus.Queued, (JobStatus?)JobStatus.Placed), (JobStatus.Placed, JobStatus.Queued)], seen.Select(e => (e.Status, e.Previous)));
        Assert.Contains("went offline", seen[0].Reason, StringComparison.Ordinal);
    }
}
