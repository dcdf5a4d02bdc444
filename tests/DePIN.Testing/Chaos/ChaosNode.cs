using System.Net;
using System.Net.Http.Json;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Jobs;
using DePIN.Core.Work;

namespace DePIN.Testing.Chaos;

/// <summary>
/// One simulated node, driven like the node agent drives a real one: signed telemetry about every second (a batch not
/// answered 202 is sent again, same body, same sequence), a long-poll for work, the Batch kernel run for each slot with
/// checkpoints, reports retried until answered, and a lease (renewed by every answer from the platform) without which
/// its work pauses. Killing it stops everything at once.
/// </summary>
public sealed class ChaosNode(TestNode node, ChaosCluster cluster, ChaosHistory history, Random random, SemaphoreSlim cores) : IDisposable
{
    private const long Chunk = 8192;

    /// <summary>A pause after each chunk: slots take seconds of wall time but little CPU, so nodes hold work long enough to be killed holding it.</summary>
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan PollWait = TimeSpan.FromSeconds(5);
    private readonly CancellationTokenSource _killed = new();
    private readonly Dictionary<(string JobKey, int Slot, int Attempt), Running> _running = [];
    private readonly Lease _lease = new();
    private volatile bool _stopping;

    public TestNode Node => node;

    public string Id => node.Id;

    public bool Killed => _killed.IsCancellationRequested;

    /// <summary>Whether it is running a slot now.</summary>
    public bool HoldsWork
    {
        get
        {
            lock (_running)
            {
                return _running.Values.Any(r => r.Hold is { End: null });
            }
        }
    }

    /// <summary>Registers, retrying until the platform takes it.</summary>
    public async Task Register()
    {
        while (true)
        {
            var body = TestNode.Json(node.Registration(DateTimeOffset.UtcNow));
            using var response = await cluster.Send(() => Signed("/v1/nodes", body), random, _killed.Token);
            if (response is { IsSuccessStatusCode: true })
            {
                return;
            }

            await Pause(500, 1500, _killed.Token);
        }
    }

    /// <summary>Heartbeats and works until <see cref="Stop"/> or <see cref="Kill"/>.</summary>
    public Task Run() => Task.WhenAll(Guard(Telemetry), Guard(Work));

    /// <summary>Ends the heartbeat and the polling after the batch in flight is answered; slots it runs go on until they end.</summary>
    public void Stop() => _stopping = true;

    /// <summary>Stops everything at once, as a machine switched off: the batch in flight is abandoned unacknowledged.</summary>
    public void Kill()
    {
        history.KilledNodes[Id] = history.Now;
        lock (_running)
        {
            foreach (var running in _running.Values)
            {
                running.Hold?.Release("killed");
            }
        }

        _killed.Cancel();
    }

    private async Task Guard(Func<CancellationToken, Task> loop)
    {
        try
        {
            await loop(_killed.Token);
        }
        catch (OperationCanceledException) when (_killed.IsCancellationRequested)
        {
        }
    }

    private async Task Telemetry(CancellationToken killed)
    {
        var log = history.Node(Id);
        for (long sequence = 1; !_stopping; sequence++)
        {
            var body = TestNode.Json(node.Batch(sequence, DateTimeOffset.UtcNow, cpu: 0.2 + (0.6 * Next())));
            var signature = node.Signer.Sign(body);
            log.Sending(sequence);
            history.Operation();
            while (true)
            {
                using var response = await cluster.Send(() => ApiJson.SignedPost($"/v1/nodes/{Id}/telemetry", body, signature), random, killed);
                if (response?.StatusCode == HttpStatusCode.Accepted)
                {
                    log.Acknowledge(sequence);
                    _lease.Renew();
                    break;
                }

                if (response?.StatusCode == HttpStatusCode.NotFound)
                {
                    history.Problem($"node {Id}: telemetry batch {sequence} answered 404 unknown-node after registration");
                    await Register();
                }
                else if (response is { StatusCode: not HttpStatusCode.TooManyRequests } refused)
                {
                    history.Problem($"node {Id}: telemetry batch {sequence} refused with {(int)refused.StatusCode}: {await refused.Content.ReadAsStringAsync(killed)}");
                    break;
                }

                await Pause(200, 600, killed);
            }

            await Pause(800, 1200, killed);
        }
    }

    private async Task Work(CancellationToken killed)
    {
        long version = -1;
        while (!_stopping)
        {
            var body = TestNode.Json(new WorkPoll(Id, version, version < 0 ? 0 : PollWait.TotalSeconds, DateTimeOffset.UtcNow));
            using var response = await cluster.Send(() => Signed($"/v1/nodes/{Id}/work", body), random, killed);
            if (response is { IsSuccessStatusCode: true })
            {
                var set = (await response.Content.ReadFromJsonAsync<WorkSet>(ApiJson.Options, killed))!;
                _lease.Renew();
                version = set.Version;
                Apply(set.Items);
                continue;
            }

            await Pause(500, 1500, killed);
        }
    }

    private void Apply(WorkItem[] items)
    {
        var wanted = items.ToDictionary(i => (i.JobKey, i.Slot, i.Attempt));
        lock (_running)
        {
            foreach (var (key, running) in _running.Where(r => !wanted.ContainsKey(r.Key)).ToList())
            {
                running.Hold?.Release("withdrawn");
                running.Abandon.Cancel();
                _running.Remove(key);
            }

            foreach (var (key, item) in wanted)
            {
                if (_running.TryGetValue(key, out var running))
                {
                    running.StopRequested |= item.Stop;
                    continue;
                }

                var started = new Running(item, CancellationTokenSource.CreateLinkedTokenSource(_killed.Token)) { StopRequested = item.Stop };
                _running[key] = started;
                _ = Task.Run(() => RunSlot(started), CancellationToken.None);
            }
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
                history.Problem($"node {Id}: slot {item.Slot} of {item.JobKey} is {item.Kind} work, which the run never submits");
                return;
            }

            running.Hold = history.Hold(Id, item);
            var progress = item.Resume is { } resume && WorkRules.IsCheckpoint(resume) && BatchKernel.FromCheckpoint(resume.Blob) is { } resumed
                ? resumed
                : BatchKernel.Start(batch.Seed, item.Shard);
            if (!await Report(item, WorkReportKind.Started, progress.Step, token))
            {
                return;
            }

            while (progress.Step < batch.Steps)
            {
                if (!_lease.Valid)
                {
                    running.Hold.Release("lease lapsed");
                    await _lease.Held(token);
                    running.Hold = history.Hold(Id, item);
                }

                if (running.StopRequested)
                {
                    running.Hold.Release("stopped");
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

                await Task.Delay(Pace, token);
                if (BatchKernel.AtCheckpoint(progress.Step, item.CheckpointEverySteps, batch.Steps)
                    && !await Report(item, WorkReportKind.Checkpoint, progress.Step, token, Checkpoint(progress)))
                {
                    return;
                }
            }

            running.Hold.Release("completed");
            await Report(item, WorkReportKind.Completed, progress.Step, token, result: progress.Hex);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        finally
        {
            running.Hold?.Release(token.IsCancellationRequested ? "withdrawn" : "superseded");
        }
    }

    /// <summary>Delivers a report, retrying until the platform answers; false when the slot is no longer this node's.</summary>
    private async Task<bool> Report(WorkItem item, WorkReportKind kind, long step, CancellationToken token, WorkCheckpoint? checkpoint = null, string? result = null)
    {
        while (true)
        {
            var body = TestNode.Json(new WorkReport(Id, item.JobKey, item.Slot, item.Attempt, kind, step, checkpoint, result, null, DateTimeOffset.UtcNow));
            using var response = await cluster.Send(() => Signed($"/v1/nodes/{Id}/work/reports", body), random, token);
            switch (response?.StatusCode)
            {
                case HttpStatusCode.Accepted:
                    _lease.Renew();
                    return true;
                case HttpStatusCode.Conflict or HttpStatusCode.NotFound:
                    return false;
                case HttpStatusCode.BadRequest:
                    history.Problem($"node {Id}: {kind} report on {item.JobKey}#{item.Slot}@{item.Attempt} refused: {await response.Content.ReadAsStringAsync(token)}");
                    return false;
            }

            await Pause(200, 1000, token);
        }
    }

    private static WorkCheckpoint Checkpoint(BatchKernel.Progress progress)
    {
        var blob = progress.ToCheckpoint();
        return new WorkCheckpoint(progress.Step, BatchKernel.ContentHash(blob), blob);
    }

    private HttpRequestMessage Signed(string path, byte[] body) => ApiJson.SignedPost(path, body, node.Signer.Sign(body));

    private double Next()
    {
        lock (random)
        {
            return random.NextDouble();
        }
    }

    private Task Pause(int fromMs, int toMs, CancellationToken token) => Task.Delay(TimeSpan.FromMilliseconds(fromMs + ((toMs - fromMs) * Next())), token);

    public void Dispose()
    {
        _killed.Dispose();
        node.Dispose();
    }

    private sealed class Running(WorkItem item, CancellationTokenSource abandon)
    {
        public WorkItem Item { get; } = item;
        public CancellationTokenSource Abandon { get; } = abandon;
        public volatile bool StopRequested;
        public SlotHold? Hold { get; set; }
    }

    /// <summary>The agent's right to run work: valid for <see cref="ChaosCluster.Lease"/> after the platform last answered.</summary>
    private sealed class Lease
    {
        private long _renewedAt = long.MinValue;
        private TaskCompletionSource _renewed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Valid => Interlocked.Read(ref _renewedAt) is var at && at != long.MinValue && System.Diagnostics.Stopwatch.GetElapsedTime(at) < ChaosCluster.Lease;

        public void Renew()
        {
            Interlocked.Exchange(ref _renewedAt, System.Diagnostics.Stopwatch.GetTimestamp());
            Interlocked.Exchange(ref _renewed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }

        public async Task Held(CancellationToken token)
        {
            while (!Valid)
            {
                await Volatile.Read(ref _renewed).Task.WaitAsync(token);
            }
        }
    }
}
