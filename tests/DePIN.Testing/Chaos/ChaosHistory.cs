using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Jobs;

namespace DePIN.Testing.Chaos;

/// <summary>
/// Everything the run's clients saw acknowledged, and when nodes held which slots: the record the checks hold the
/// platform's final state against. Only a 2xx the client read counts as acknowledged.
/// </summary>
public sealed class ChaosHistory
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<string> _problems = new();
    private long _requests;
    private long _operations;

    public TimeSpan Now => _clock.Elapsed;

    public ConcurrentDictionary<string, NodeTelemetry> Telemetry { get; } = new(StringComparer.Ordinal);

    /// <summary>Jobs sent, by tenant key and job id; <see cref="SentJob.Acknowledged"/> once a 201 or 200 came back.</summary>
    public ConcurrentDictionary<(string TenantKey, string JobId), SentJob> Jobs { get; } = new();

    public ConcurrentQueue<AcknowledgedContribution> Contributions { get; } = new();

    public ConcurrentQueue<SignedTreeHead> Heads { get; } = new();

    public ConcurrentQueue<SlotHold> Holds { get; } = new();

    public ConcurrentQueue<SiloFault> SiloFaults { get; } = new();

    public ConcurrentDictionary<string, TimeSpan> KilledNodes { get; } = new(StringComparer.Ordinal);

    public long Requests => Interlocked.Read(ref _requests);

    public long Operations => Interlocked.Read(ref _operations);

    public int PostgresRestarts { get; set; }

    public int SiloRestarts;

    /// <summary>Silo starts that failed while PostgreSQL was restarting (or just after), and were tried again.</summary>
    public int SiloStartFailures;

    public long ContributionsSent;

    /// <summary>Node kills that found no node holding work within 15 s and took an idle one.</summary>
    public int NodesKilledIdle;

    /// <summary>What went wrong on the way (refusals no retry can fix, waits that ran out), for the report.</summary>
    public IReadOnlyCollection<string> Problems => _problems;

    public void Problem(string what)
    {
        if (_problems.Count < 200)
        {
            _problems.Enqueue(what);
        }
    }

    public void Request() => Interlocked.Increment(ref _requests);

    public void Operation() => Interlocked.Increment(ref _operations);

    public NodeTelemetry Node(string nodeId) => Telemetry.GetOrAdd(nodeId, _ => new NodeTelemetry());

    /// <summary>A node begins to run a slot; the hold ends with <see cref="SlotHold.Release"/>.</summary>
    public SlotHold Hold(string nodeId, WorkItem item)
    {
        var hold = new SlotHold(this, nodeId, item.JobKey, item.Slot, item.Attempt, Now);
        Holds.Enqueue(hold);
        return hold;
    }
}

/// <summary>A node's telemetry as its client saw it: batches sent (sequences 1 to <see cref="Sent"/>) and acknowledged.</summary>
public sealed class NodeTelemetry
{
    private long _sent;
    private long _acknowledged;
    private long _lastAcknowledged;

    public long Sent => Interlocked.Read(ref _sent);

    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public long LastAcknowledged => Interlocked.Read(ref _lastAcknowledged);

    public void Sending(long sequence) => Interlocked.Exchange(ref _sent, sequence);

    public void Acknowledge(long sequence)
    {
        Interlocked.Increment(ref _acknowledged);
        Interlocked.Exchange(ref _lastAcknowledged, sequence);
    }
}

/// <summary>A job a tenant submitted, and what it asked for, so the result can be recomputed.</summary>
public sealed record SentJob(string Tenant, string JobId, JobSpec Spec)
{
    public volatile bool Acknowledged;
}

/// <summary>A contribution that got its receipt: where the platform said it sits, and the leaf hash the client computed.</summary>
public sealed record AcknowledgedContribution(string Dataset, string ContentHash, byte[] LeafHash, ContributionReceipt Receipt);

/// <summary>A silo killed (SIGKILL) or stopped (SIGTERM), and how long until the probe set answered again.</summary>
public sealed record SiloFault(int Slot, bool Graceful, TimeSpan At)
{
    public TimeSpan? Recovery { get; set; }

    /// <summary>How long the process took to exit: at once for SIGKILL, the silo's shutdown for SIGTERM.</summary>
    public TimeSpan? Exit { get; set; }
}

/// <summary>
/// The time a node spent running one (job, slot, attempt): from when it began (or resumed after its lease lapsed) to
/// when it stopped computing (completed, stopped, withdrawn, superseded, lease lapsed or killed).
/// </summary>
public sealed class SlotHold(ChaosHistory history, string nodeId, string jobKey, int slot, int attempt, TimeSpan start)
{
    private long _endTicks = -1;

    public string NodeId => nodeId;
    public string JobKey => jobKey;
    public int Slot => slot;
    public int Attempt => attempt;
    public TimeSpan Start => start;
    public string? Ending { get; private set; }

    public TimeSpan? End => Interlocked.Read(ref _endTicks) is var t && t >= 0 ? TimeSpan.FromTicks(t) : null;

    public void Release(string why)
    {
        if (Interlocked.CompareExchange(ref _endTicks, history.Now.Ticks, -1) == -1)
        {
            Ending = why;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{jobKey}#{slot}@{attempt} on {nodeId[..8]} {start.TotalSeconds:0.000}-{(End is { } end ? end.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) : "…")} s ({Ending ?? "held"})");
}
