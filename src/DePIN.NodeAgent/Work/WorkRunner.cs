using DePIN.Abstractions.Inference;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Training;
using DePIN.Core.Datasets;
using DePIN.Core.Identity;
using DePIN.Core.Inference;
using DePIN.Core.Training;
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
        var backoff = new Backoff(time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var poll = new WorkPoll(signer.NodeId, version, version < 0 ? 0 : PollWait.TotalSeconds, time.GetUtcNow());
                var (delivery, work) = await api.PollWork(signer, poll, cancellationToken);
                if (work is null)
                {
                    await backoff.Wait(cancellationToken);
                    continue;
                }

                backoff.Reset();
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
            if (item.Kind == JobKind.Training)
            {
                await RunTraining(running);
                return;
            }

            if (item.Kind == JobKind.Inference)
            {
                await Serve(running);
                return;
            }

            if (item.Kind != JobKind.Batch || item.Batch is not { } batch)
            {
                await Report(item, WorkReportKind.Failed, 0, token, error: $"This agent does not know {item.Kind.ToString().ToLowerInvariant()} work.");
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

                var until = BatchKernel.NextStop(progress.Step, item.CheckpointEverySteps, batch.Steps);
                await cores.WaitAsync(token);
                try
                {
                    progress = BatchKernel.Advance(progress, Chunk, until);
                }
                finally
                {
                    cores.Release();
                }

                if (BatchKernel.AtCheckpoint(progress.Step, item.CheckpointEverySteps, batch.Steps))
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

    /// <summary>
    /// A DiLoCo worker on the slot's shard: fetch the round, take H local steps from its global parameters, send the
    /// delta, and again, until the coordinator says training is done; then report the model as the result. The
    /// worker's state is its optimizer's only: the coordinator holds the model, so a stopped or moved slot loses
    /// nothing but the round in flight.
    /// </summary>
    private async Task RunTraining(Running running)
    {
        var item = running.Item;
        var token = running.Abandon.Token;
        if (!await Report(item, WorkReportKind.Started, 0, token))
        {
            return;
        }

        long known = -1;
        LocalWorker? worker = null;
        var backoff = new Backoff(time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        while (true)
        {
            await lease.Held(token);
            if (running.StopRequested)
            {
                await Report(item, WorkReportKind.Stopped, Math.Max(known, 0), token);
                return;
            }

            var poll = new TrainingPoll(signer.NodeId, item.JobKey, item.Slot, item.Attempt, known, PollWait.TotalSeconds, time.GetUtcNow());
            var (delivery, round) = await api.TrainingRound(signer, poll, token);
            if (delivery is Delivery.Refused or Delivery.UnknownNode)
            {
                LogSuperseded(signer.NodeId, item.JobKey, item.Slot, item.Attempt);
                return;
            }

            if (round is null || round.Submitted)
            {
                known = round?.Round ?? known;
                if (round is null)
                {
                    await backoff.Wait(token);
                }

                continue;
            }

            backoff.Reset();
            lease.Renew();
            if (round.Done)
            {
                await (round.ModelHash is { } model
                    ? Report(item, WorkReportKind.Completed, round.Round, token, result: model)
                    : Report(item, WorkReportKind.Failed, round.Round, token, error: "Training could not run; the job's training status says why."));
                return;
            }

            var work = round.Work;
            worker ??= await Worker(item, round, token);
            var parameters = Weights.Decode(round.Parameters);
            if (worker is null || parameters is null || parameters.Length != work.Model().ParameterCount)
            {
                await Report(item, WorkReportKind.Failed, round.Round, token,
                    error: worker is null ? $"Shard {item.Shard} of {work.Dataset}@{work.SnapshotSize} is empty or unreadable." : "The round's parameters do not fit the model.");
                return;
            }

            float[] delta;
            await cores.WaitAsync(token);
            try
            {
                delta = worker.Round(parameters, work.InnerSteps);
            }
            finally
            {
                cores.Release();
            }

            var report = new TrainingDeltaReport(signer.NodeId, item.JobKey, item.Slot, item.Attempt, round.Round, Weights.Encode(delta), time.GetUtcNow());
            // Failed (network, 5xx): fetch the round again; if it is still open and the delta not in, the next pass sends a new one.
            // Refused: the round closed without it, or the slot moved; the next fetch says which.
            known = await api.SubmitDelta(signer, report, token) == Delivery.Accepted ? round.Round : -1;
            if (known >= 0 && !await Report(item, WorkReportKind.Progress, round.Round + 1, token))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Serves a model version until the slot is stopped or withdrawn: downloads it (checking the weights against its
    /// hash), then long-polls for requests, answers each with the model's class and probabilities, and signs a
    /// receipt naming the model, this node, the input's hash and the answer.
    /// </summary>
    private async Task Serve(Running running)
    {
        var item = running.Item;
        var token = running.Abandon.Token;
        var backoff = new Backoff(time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        (ModelVersion Version, float[] Weights)? model = null;
        for (var tries = 0; item.Inference is { } work && tries < 5 && (model = await api.Model(work.ModelHash, token)) is null; tries++)
        {
            await backoff.Wait(token);
        }

        if (model is null)
        {
            await Report(item, WorkReportKind.Failed, 0, token, error: $"Model {item.Inference?.ModelHash} could not be loaded, or its weights do not match its hash.");
            return;
        }

        var hash = item.Inference!.ModelHash;
        var (version, weights) = model.Value;
        var task = version.Work.Task();
        var mlp = version.Work.Model();
        var normaliser = new Normaliser(version.Mean, version.Scale);
        if (!await Report(item, WorkReportKind.Started, 0, token))
        {
            return;
        }

        long served = 0;
        var hidden = new float[mlp.Hidden];
        while (true)
        {
            await lease.Held(token);
            if (running.StopRequested)
            {
                await Report(item, WorkReportKind.Stopped, served, token);
                return;
            }

            var poll = new InferencePoll(signer.NodeId, item.JobKey, item.Slot, item.Attempt, PollWait.TotalSeconds, time.GetUtcNow());
            var (delivery, requests) = await api.PollInference(signer, poll, token);
            if (delivery is Delivery.Refused or Delivery.UnknownNode)
            {
                LogSuperseded(signer.NodeId, item.JobKey, item.Slot, item.Attempt);
                return;
            }

            if (requests is null)
            {
                await backoff.Wait(token);
                continue;
            }

            backoff.Reset();
            lease.Renew();
            if (requests.Length == 0)
            {
                continue;
            }

            var answers = new List<InferenceAnswer>(requests.Length);
            foreach (var request in requests)
            {
                if (Contribution.FromCanonical(request.Input) is not { } input || task.Features(input) is not { } raw)
                {
                    continue; // the platform checked it; a request that does not decode gets no answer
                }

                var probabilities = new float[mlp.Classes]; // goes out in the receipt
                mlp.Predict(weights, normaliser.Apply(raw), hidden, probabilities);
                var answer = task.Classes[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(probabilities)];
                var inputHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(request.Input));
                answers.Add(new InferenceAnswer(request.RequestId, InferenceReceipt.Sign(hash, inputHash, answer, probabilities, time.GetUtcNow(), signer)));
            }

            served += answers.Count;
            await api.SendAnswers(signer, new InferenceAnswers(signer.NodeId, item.JobKey, item.Slot, item.Attempt, [.. answers], time.GetUtcNow()), token);
        }
    }

    private async Task<LocalWorker?> Worker(WorkItem item, TrainingRound round, CancellationToken token)
    {
        var work = round.Work;
        List<(Contribution, byte[])>? records;
        var backoff = new Backoff(time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        while ((records = await api.SnapshotRecords(work.Dataset, work.SnapshotSize, token)) is null)
        {
            await backoff.Wait(token);
        }

        // The coordinator's normaliser, not one of our own: every worker and the held-out score see the same features.
        var (examples, _) = work.Task().Examples(records, new Normaliser(round.Mean, round.Scale));
        var shard = examples.Where(e => !e.IsHeldOut && e.Shard(round.Shards) == item.Shard).ToList();
        return shard.Count == 0
            ? null
            : new LocalWorker(work.Model(), shard, work.InnerLearningRate, work.BatchSize, seed: unchecked(work.Seed * 1000 + item.Shard + item.Attempt * 7919));
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
        var backoff = new Backoff(time, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5));
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
                    await backoff.Wait(token);
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
