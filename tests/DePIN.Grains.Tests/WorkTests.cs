using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Work;
using DePIN.Grains.Jobs;
using DePIN.Testing;

namespace DePIN.Grains.Tests;

/// <summary>
/// Jobs run: agents (played here by the test, computing the real kernel) take slots from their node's inbox and report
/// on them; the job checkpoints, resumes after node loss and preemption, retries failures, and verifies by majority.
/// </summary>
public sealed class WorkTests(NodeCluster cluster) : IClassFixture<NodeCluster>
{
    private static JobSpec Batch(string region, int cpuCores = 8, int priority = 10, int redundancy = 1, bool adaptive = false) =>
        TestJob.Spec(replicas: 1, cpuCores: cpuCores) with
        {
            Constraints = JobConstraints.None with { Regions = [region] },
            Priority = priority,
            Verification = new VerificationPolicy(redundancy, adaptive),
        };

    private static string Expected => BatchKernel.Result(7, 0, TestJob.Steps);

    [Fact]
    public async Task A_batch_job_runs_checkpoints_and_succeeds_with_the_kernels_result()
    {
        var fleet = await Fleet.Online(cluster, "run-1", 1);
        await cluster.Sdk.SubmitJobAsync("acme", "run", Batch("run-1"));
        await JobWhen(cluster, "run", j => j.Status == JobStatus.Placed, "the job placed");
        var agent = fleet[0];
        var item = await agent.Next("run");

        await agent.Report(item, WorkReportKind.Started, 0);
        var running = await cluster.Sdk.GetJobAsync("acme", "run");
        var half = GrainAgent.RunTo(item, TestJob.Steps / 2);
        await agent.Report(item, WorkReportKind.Checkpoint, half.Step, half);
        var checkpointed = await cluster.Sdk.GetJobAsync("acme", "run");
        var end = GrainAgent.RunTo(item, TestJob.Steps, from: half);
        await agent.Report(item, WorkReportKind.Completed, end.Step, result: end.Hex);
        var done = await cluster.Sdk.GetJobAsync("acme", "run");

        Assert.Equal((0, TestJob.Steps / 10, (WorkCheckpoint?)null), (item.Shard, item.CheckpointEverySteps, item.Resume));
        Assert.Equal(JobStatus.Running, running!.Status);
        Assert.Equal([(0, TestJob.Steps / 2)], checkpointed!.Checkpoints.Select(c => (c.Shard, c.Step)));
        Assert.Equal(0.5, checkpointed.Progress);
        Assert.Equal((JobStatus.Succeeded, Expected, 1.0), (done!.Status, done.Result, done.Progress));
        Assert.Empty(await agent.Work()); // withdrawn from the node's inbox
        Assert.Equal(ReportOutcome.Superseded, await agent.Report(item, WorkReportKind.Progress, 1));
    }

    [Fact]
    public async Task A_job_whose_node_is_lost_resumes_on_another_from_its_checkpoint()
    {
        var fleet = await Fleet.Online(cluster, "loss-1", 2);
        await cluster.Sdk.SubmitJobAsync("acme", "loss", Batch("loss-1"));
        var placed = await JobWhen(cluster, "loss", j => j.Status == JobStatus.Placed, "the job placed");
        var lost = fleet.Single(a => a.Id == placed.Assignments[0].NodeId);
        var survivor = fleet.Single(a => a != lost);
        var item = await lost.Next("loss");
        await lost.Report(item, WorkReportKind.Started, 0);
        var checkpoint = GrainAgent.RunTo(item, 3 * TestJob.Steps / 10);
        await lost.Report(item, WorkReportKind.Checkpoint, checkpoint.Step, checkpoint);

        await Fleet.Silence(cluster, lost, survivor); // offline after 6 silent intervals
        await JobWhen(cluster, "loss", j => j.Attempts == 2 && j.Status == JobStatus.Placed, "the job placed again");
        var moved = await survivor.Next("loss", attempt: 2);
        var resumed = BatchKernel.FromCheckpoint(moved.Resume!.Blob)!.Value;
        await survivor.Report(moved, WorkReportKind.Started, resumed.Step);
        var end = GrainAgent.RunTo(moved, TestJob.Steps, from: resumed);
        await survivor.Report(moved, WorkReportKind.Completed, end.Step, result: end.Hex);
        var done = await cluster.Sdk.GetJobAsync("acme", "loss");

        Assert.Equal((2, 3 * TestJob.Steps / 10), (moved.Attempt, moved.Resume.Step));
        Assert.Equal((JobStatus.Succeeded, Expected), (done!.Status, done.Result));
        Assert.Equal(ReportOutcome.Superseded, await lost.Report(item, WorkReportKind.Progress, checkpoint.Step + 1));
        Assert.Empty(await lost.Work());
    }

    [Fact]
    public async Task Higher_priority_work_preempts_a_job_which_checkpoints_first_and_resumes_afterwards()
    {
        var node = (await Fleet.Online(cluster, "pre-1", 1))[0];
        await cluster.Sdk.SubmitJobAsync("acme", "low", Batch("pre-1", priority: 10));
        await JobWhen(cluster, "low", j => j.Status == JobStatus.Placed, "the low-priority job placed");
        var low = await node.Next("low");
        await node.Report(low, WorkReportKind.Started, 0);
        var progress = GrainAgent.RunTo(low, TestJob.Steps / 4);

        await cluster.Sdk.SubmitJobAsync("acme", "high", Batch("pre-1", priority: 500));
        var asked = await Wait.Until(node.Work, items => items.Any(i => i.JobKey == low.JobKey && i.Stop), "the low job asked to stop");
        var stillQueued = await cluster.Sdk.GetJobAsync("acme", "high"); // the node is not free until the low job stops
        await node.Report(low, WorkReportKind.Stopped, progress.Step, progress);
        var preempted = await JobWhen(cluster, "low", j => j.Status == JobStatus.Queued, "the low job queued again");
        await JobWhen(cluster, "high", j => j.Status == JobStatus.Placed, "the high job placed");
        var high = await node.Next("high");
        await node.Report(high, WorkReportKind.Started, 0);
        var highEnd = GrainAgent.RunTo(high, TestJob.Steps);
        await node.Report(high, WorkReportKind.Completed, highEnd.Step, result: highEnd.Hex);

        await JobWhen(cluster, "low", j => j.Status == JobStatus.Placed && j.Attempts == 2, "the low job placed again");
        var again = await node.Next("low", attempt: 2);
        var resumed = BatchKernel.FromCheckpoint(again.Resume!.Blob)!.Value;
        var lowEnd = GrainAgent.RunTo(again, TestJob.Steps, from: resumed);
        await node.Report(again, WorkReportKind.Completed, lowEnd.Step, result: lowEnd.Hex);

        Assert.Single(asked, i => i.Stop);
        Assert.Equal(JobStatus.Queued, stillQueued!.Status);
        Assert.StartsWith("Preempted by higher-priority job high", preempted.Reason, StringComparison.Ordinal);
        Assert.Equal(TestJob.Steps / 4, resumed.Step);
        Assert.Equal(JobStatus.Succeeded, (await cluster.Sdk.GetJobAsync("acme", "high"))!.Status);
        Assert.Equal((JobStatus.Succeeded, Expected), ((await cluster.Sdk.GetJobAsync("acme", "low"))!.Status, (await cluster.Sdk.GetJobAsync("acme", "low"))!.Result));
    }

    [Fact]
    public async Task Majority_verification_keeps_the_honest_result_and_costs_the_liar_its_reputation()
    {
        var fleet = await Fleet.Online(cluster, "vote-1", 3);
        await cluster.Sdk.SubmitJobAsync("acme", "vote", Batch("vote-1", cpuCores: 2, redundancy: 3));
        var placed = await JobWhen(cluster, "vote", j => j.Status == JobStatus.Placed, "the job placed");
        var liar = fleet[1];
        foreach (var agent in fleet)
        {
            var item = await agent.Next("vote");
            var end = GrainAgent.RunTo(item, TestJob.Steps);
            var claimed = agent == liar ? BatchKernel.ContentHash("made up"u8) : end.Hex;
            await agent.Report(item, WorkReportKind.Completed, end.Step, result: claimed);
        }

        var done = await cluster.Sdk.GetJobAsync("acme", "vote");
        var reputations = await Task.WhenAll(fleet.Select(async a => (await cluster.Node(a.Id).GetDetails())!.Reputation));

        Assert.Equal(3, placed.Assignments.Select(a => a.NodeId).Distinct().Count());
        Assert.Equal((JobStatus.Succeeded, Expected), (done!.Status, done.Result));
        Assert.Equal((0L, 1L), (reputations[1].Agreed, reputations[1].Disagreed));
        Assert.All(reputations.Where((_, i) => i != 1), r => Assert.Equal((1L, 0L), (r.Agreed, r.Disagreed)));
        Assert.True(reputations[1].Score < NodeSummary.NewReputation && reputations[0].Score > NodeSummary.NewReputation);

        // Adaptive verification: nodes not yet trusted get their work checked by more copies than asked.
        await cluster.Sdk.SubmitJobAsync("acme", "adaptive", Batch("vote-1", cpuCores: 2, redundancy: 1, adaptive: true));
        var adaptive = await JobWhen(cluster, "adaptive", j => j.Status == JobStatus.Placed, "the adaptive job placed");
        Assert.Equal(3, adaptive.Assignments.Length);
    }

    [Fact]
    public async Task A_failed_replica_retries_after_a_backoff_and_the_job_fails_past_the_limit()
    {
        await using var cluster = await NodeCluster.Start(new Dictionary<string, string?> { ["Jobs:MaxFailures"] = "2" });
        var node = (await Fleet.Online(cluster, "fail-1", 1))[0];
        await cluster.Sdk.SubmitJobAsync("acme", "flaky", Batch("fail-1"));
        await JobWhen(cluster, "flaky", j => j.Status == JobStatus.Placed, "the job placed");
        var first = await node.Next("flaky");

        await node.Report(first, WorkReportKind.Failed, 0, error: "out of memory");
        var retrying = await cluster.Sdk.GetJobAsync("acme", "flaky");
        cluster.Time.Advance(JobGrain.Backoff(1));
        await JobWhen(cluster, "flaky", j => j.Status == JobStatus.Placed && j.Attempts == 2, "the retry placed after the backoff");
        var second = await node.Next("flaky", attempt: 2);
        await node.Report(second, WorkReportKind.Failed, 0, error: "out of memory again");
        var failed = await cluster.Sdk.GetJobAsync("acme", "flaky");

        Assert.Equal((JobStatus.Queued, 1), (retrying!.Status, retrying.Failures));
        Assert.Contains("out of memory", retrying.Reason, StringComparison.Ordinal);
        Assert.Equal((JobStatus.Failed, 2), (failed!.Status, failed.Failures));
        Assert.Contains("Gave up after 2 failed attempts", failed.Reason, StringComparison.Ordinal);
        Assert.Empty(await node.Work());
    }

    [Fact]
    public async Task A_copy_that_already_finished_does_not_hold_up_moving_the_job_when_another_copys_node_is_lost()
    {
        var fleet = await Fleet.Online(cluster, "copy-1", 3);
        await cluster.Sdk.SubmitJobAsync("acme", "pair", Batch("copy-1", cpuCores: 8, redundancy: 2));
        var placed = await JobWhen(cluster, "pair", j => j.Status == JobStatus.Placed, "the job placed");
        var (done, lost) = (fleet.Single(a => a.Id == placed.Assignments[0].NodeId), fleet.Single(a => a.Id == placed.Assignments[1].NodeId));
        var spare = fleet.Single(a => a != done && a != lost);
        var item = await done.Next("pair");
        var end = GrainAgent.RunTo(item, TestJob.Steps);
        await done.Report(item, WorkReportKind.Completed, end.Step, result: end.Hex);

        await Fleet.Silence(cluster, lost, done, spare);
        var again = await JobWhen(cluster, "pair", j => j.Attempts == 2 && j.Status == JobStatus.Placed, "the job placed again at once");

        Assert.DoesNotContain(lost.Id, again.Assignments.Select(a => a.NodeId));
    }

    [Fact]
    public async Task Slots_that_never_start_are_given_up_after_the_start_timeout_and_the_job_is_placed_again()
    {
        await using var cluster = await NodeCluster.Start(new Dictionary<string, string?>
        {
            ["Jobs:WatchdogPeriod"] = "00:00:00.5", // the scheduler has every held job check on itself twice a second
            ["Nodes:TelemetryInterval"] = "00:10:00", // the node stays online however far the clock moves
        });
        var node = (await Fleet.Online(cluster, "start-1", 1))[0];
        await cluster.Sdk.SubmitJobAsync("acme", "stuck", Batch("start-1"));
        await node.Next("stuck"); // handed out, but the agent never starts it

        cluster.Time.Advance(new JobOptions().StartTimeout + TimeSpan.FromSeconds(1));
        var again = await node.Next("stuck", attempt: 2);
        var job = await cluster.Sdk.GetJobAsync("acme", "stuck");

        Assert.Equal([2], (await node.Work()).Select(i => i.Attempt)); // the first attempt's slot is withdrawn
        Assert.Equal((2, 0), (again.Attempt, job!.Failures)); // not the job's fault
    }

    internal static Task<JobDetails> JobWhen(NodeCluster cluster, string id, Func<JobDetails, bool> done, string what) =>
        Wait.Until(async () => (await cluster.Sdk.GetJobAsync("acme", id))!, done, what);
}
