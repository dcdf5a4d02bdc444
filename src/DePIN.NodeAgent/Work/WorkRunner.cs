using DePIN.Abstractions.Jobs;
using DePIN.Core.Identity;
using DePIN.Core.Work;
using DePIN.NodeAgent.Platform;

namespace DePIN.NodeAgent.Work;

/// <summary>
/// Runs a node's work: long-polls the platform for the slots the node should run, runs each (the Batch kernel),
/// checkpoints at the steps the platform set, and reports started, progress, checkpoints and the result. A slot asked
/// to stop checkpoints and reports stopped; a slot that disappears from the set ends at once. Work pauses whenever
/// the <see cref="Lease"/> lapses.
/// </summary>
public sealed partial class WorkRunner(
    NodeSigner signer, PlatformApi api, TimeProvider time, Lease lease, SemaphoreSlim cores, ILogger logger)
{
    /// <summary>How long one poll waits for a change.</summary>
    public static readonly TimeSpan PollWait = TimeSpan.FromSeconds(10);

    /// <summary>Kernel steps between looks at stop requests, the lease and the clock.</summary>
    private const long Chunk = 8192;

    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(1);
    private readonly Dictionary<(string JobKey, int Slot, int Attempt), Running> _running = [];

    private sealed class Running(WorkItem item, CancellationTokenSource abandon)
    {
        public WorkItem Item { get; } = item;
        public CancellationTokenSource Abandon { get; } = abandon;
        public volatile bool StopRequested;
        public Task Task { get; set; } = Task.CompletedTask;
    }

    public async Task Run(CancellationToken cancellationToken)
    {
        long version = -1;
        var backoff = TimeSpan.FromSeconds(1);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var poll = new WorkPoll(signer.NodeId, version, version < 0 ? 0 : PollWait.TotalSeconds, time.GetUtcNow());
                var (delivery, work) = await api.PollWork(signer, poll, cancellationToken);
                if (work is null)
                {
                    await Task.Delay(backoff, time, cancellationToken);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
                    continue;
                }

                backoff = TimeSpan.FromSeconds(1);
                lease.Renew();
                version = work.Version;
                Apply(work.Items, cancellationToken);
            }
        }
        finally
        {
            foreach (var running in _running.Values)
            {
                await running.Abandon.CancelAsync();
            }
        }
    }

    private void Apply(WorkItem[] items, CancellationToken cancellationToken)
    {
        var wanted = items.ToDictionary(i => (i.JobKey, i.Slot, i.Attempt));
        // A slot that finished stays until the platform withdraws it, so that it is never run twice.
        foreach (var (key, running) in _running.Where(r => !wanted.ContainsKey(r.Key)).ToList())
        {
            running.Abandon.Cancel(); // withdrawn: end it now
            running.Abandon.Dispose();
            _running.Remove(key);
        }

        foreach (var (key, item) in wanted)
        {
            if (_running.TryGetValue(key, out var running))
            {
                running.StopRequested |= item.Stop;
                continue;
            }

            var started = new Running(item, CancellationTokenSource.CreateLinkedTokenSource(cancellationToken)) { StopRequested = item.Stop };
            started.Task = Task.Run(() => RunSlot(started), CancellationToken.None);
            _running[key] = started;
        }
    }

    private async Task RunSlot(Running running)
    {
        var item = running.Item;
        var token = running.Abandon.Token;
        try
        {
            if (item.Kind != JobKind.Batch || item.Batch is not { } batch)
            {
                await Report(item, WorkReportKind.Failed, 0, token, error: $"This agent runs batch work only; {item.Kind.ToString().ToLowerInvariant()} workloads are not supported yet.");
                return;
            }

            var progress = item.Resume is { } resume && WorkRules.IsCheckpoint(resume) && BatchKernel.FromCheckpoint(resume.Blob) is { } resumed
                ? resumed
                : BatchKernel.Start(batch.Seed, item.Shard);
            if (!await Report(item, WorkReportKind.Started, progress.Step, token))
            {
                return;
            }

            var reportedAt = time.GetTimestamp();
            while (progress.Step < batch.Steps)
            {
                await lease.Held(token);
                if (running.StopRequested)
                {
                    await Report(item, WorkReportKind.Stopped, progress.Step, token, Checkpoint(progress));
                    return;
                }

                var until = item.CheckpointEverySteps > 0
                    ? Math.Min(batch.Steps, ((progress.Step / item.CheckpointEverySteps) + 1) * item.CheckpointEverySteps)
                    : batch.Steps;
                await cores.WaitAsync(token);
                try
                {
                    progress = BatchKernel.Advance(progress, Chunk, until);
                }
                finally
                {
                    cores.Release();
                }

                if (item.CheckpointEverySteps > 0 && progress.Step % item.CheckpointEverySteps == 0 && progress.Step < batch.Steps)
                {
                    if (!await Report(item, WorkReportKind.Checkpoint, progress.Step, token, Checkpoint(progress)))
                    {
                        return;
                    }

                    reportedAt = time.GetTimestamp();
                }
                else if (time.GetElapsedTime(reportedAt) >= ProgressEvery)
                {
                    if (!await Report(item, WorkReportKind.Progress, progress.Step, token))
                    {
                        return;
                    }

                    reportedAt = time.GetTimestamp();
                }
            }

            // The result must not be lost: a crash before this report re-runs the slot from its last checkpoint.
            await Report(item, WorkReportKind.Completed, progress.Step, token, result: progress.Hex);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Withdrawn, or the agent is stopping.
        }
    }

    private static WorkCheckpoint Checkpoint(BatchKernel.Progress progress)
    {
        var blob = progress.ToCheckpoint();
        return new WorkCheckpoint(progress.Step, BatchKernel.ContentHash(blob), blob);
    }

    /// <summary>Delivers a report, retrying until the platform answers; false when the slot is no longer ours.</summary>
    private async Task<bool> Report(
        WorkItem item, WorkReportKind kind, long step, CancellationToken token, WorkCheckpoint? checkpoint = null, string? result = null, string? error = null)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            var report = new WorkReport(signer.NodeId, item.JobKey, item.Slot, item.Attempt, kind, step, checkpoint, result, error, time.GetUtcNow());
            switch (await api.ReportWork(signer, report, token))
            {
                case Delivery.Accepted:
                    lease.Renew();
                    if (kind is WorkReportKind.Completed or WorkReportKind.Stopped or WorkReportKind.Failed)
                    {
                        LogSlotEnded(signer.NodeId, item.JobKey, item.Slot, item.Attempt, kind);
                    }

                    return true;
                case Delivery.Failed:
                    await Task.Delay(backoff, time, token);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                    continue;
                default:
                    LogSuperseded(signer.NodeId, item.JobKey, item.Slot, item.Attempt);
                    return false;
            }
        }
    }

    [LoggerMessage(LogLevel.Information, "Node {NodeId}: slot {Slot} of {JobKey} (attempt {Attempt}) {Kind}")]
    private partial void LogSlotEnded(string nodeId, string jobKey, int slot, int attempt, WorkReportKind kind);

    [LoggerMessage(LogLevel.Information, "Node {NodeId}: slot {Slot} of {JobKey} (attempt {Attempt}) is no longer ours; dropped")]
    private partial void LogSuperseded(string nodeId, string jobKey, int slot, int attempt);
}
