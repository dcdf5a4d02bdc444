using DePIN.Abstractions;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.Core.Economy;
using DePIN.Core.Nodes;
using DePIN.Core.Telemetry;
using DePIN.Core.Work;
using DePIN.Grains.Diagnostics;
using DePIN.Grains.Directory;
using DePIN.Grains.Maintenance;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Orleans.Streams;

namespace DePIN.Grains.Nodes;

/// <summary>
/// One provider node: registration, status and liveness, and a rolling summary of its telemetry, which the API hands
/// it batch by batch once the signature is verified. It also watches the node's health: an anomaly
/// detector on every metric, the fault events its agent reports and its network, assessed as a risk of failing within
/// the horizon (<see cref="FailureModels"/>); a risky node is drained, and returns to service when the risk falls.
/// </summary>
/// <remarks>
/// Registration and every status change are written before they are acknowledged or announced. A telemetry batch is
/// written to the <see cref="ITelemetryJournal"/> before it is applied and acknowledged; the summary and sequence
/// watermark are checkpointed every <see cref="NodeOptions.CheckpointInterval"/>, and a fresh activation replays the
/// journal past its checkpoint. So an acknowledged batch is applied exactly once whatever crashes, and a replayed one
/// is refused by its sequence number. The health evidence lives in memory: a fresh
/// activation's detectors learn again (<see cref="MaintenanceOptions.DetectorWarmup"/>), while the drain decision and
/// the operator's mode are durable.
/// </remarks>
public sealed partial class NodeGrain(
    [PersistentState("node", StorageNames.Nodes)] IPersistentState<NodeState> state,
    PlatformClock clock,
    IOptions<NodeOptions> options,
    ITelemetryJournal journal,
    IOptions<MaintenanceOptions> maintenance,
    FailureModels failureModels,
    DePINMetrics metrics,
    ILogger<NodeGrain> logger)
    : Grain, INodeGrain, IRemindable
{
    private const string RecoveryReminder = "liveness";
    private readonly NodeOptions _options = options.Value;
    private readonly LivenessPolicy _liveness = options.Value.Liveness;
    private ITimer? _livenessTimer;
    private DateTimeOffset? _livenessDueAt;
    private long _changes;
    private long _written;
    private bool _directoryBehind;
    private bool _superseded; // another activation wrote the state since this one read it
    private GroupCommit? _save;
    private INodeGrain? _self;
    private IAsyncStream<NodeEvent>? _events;
    private readonly NodeHealthWatch _health = new(maintenance.Value);

    private NodeState Node => state.State;

    private string NodeId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _self = this.AsReference<INodeGrain>();
        _events = this.GetStreamProvider(StreamNames.Provider)
            .GetStream<NodeEvent>(StreamId.Create(StreamNames.NodeEvents, StreamNames.FleetKey));
        // Staggered, so nodes activated together do not all write at once; interleaved, so telemetry keeps flowing
        // while a checkpoint waits on the database (the storage writes a copy taken in the checkpoint's turn:
        // SnapshotGrainStorage).
        this.RegisterGrainTimer(Checkpoint, new GrainTimerCreationOptions
        {
            DueTime = _options.CheckpointInterval * (0.5 + Random.Shared.NextDouble()),
            Period = _options.CheckpointInterval,
            Interleave = true,
        });

        if (!Node.IsRegistered)
        {
            return;
        }

        // Batches acknowledged after the last checkpoint are in the journal: apply them again, in order.
        foreach (var (batch, receivedAt) in await journal.After(NodeId, Node.LastSequence))
        {
            Apply(batch, receivedAt);
        }

        await SyncDirectory(); // heals a directory write lost in a crash
        await CheckLiveness();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _livenessTimer?.Dispose();
        metrics.ForgetRisk(NodeId);
        await SendExamples();
        if (_changes == _written || _superseded)
        {
            return;
        }

        try
        {
            await WriteState();
        }
        catch (Exception ex) when (reason.ReasonCode is DeactivationReasonCode.ShuttingDown or DeactivationReasonCode.ApplicationError)
        {
            // The silo is going down (or storage failed): the last checkpoint stands, and a fresh activation fences
            // off replays of anything accepted since.
            LogFinalCheckpointFailed(ex, NodeId);
        }
    }

    public async Task<RegistrationResult> Register(NodeRegistration registration)
    {
        if (Node.PublicKey is { } key && !key.AsSpan().SequenceEqual(registration.PublicKey))
        {
            LogKeyMismatch(NodeId);
            return new RegistrationResult(RegistrationOutcome.KeyMismatch, null);
        }

        if (Node.IsRegistered)
        {
            if (registration.Timestamp < Node.RegistrationSignedAt ||
                (registration.Timestamp == Node.RegistrationSignedAt && registration.Capabilities != Node.Capabilities))
            {
                return new RegistrationResult(RegistrationOutcome.Stale, Details());
            }

            if (registration.Timestamp == Node.RegistrationSignedAt)
            {
                return new RegistrationResult(RegistrationOutcome.Updated, Details()); // a retry of the same request
            }
        }

        // Its accounts before its registration: a registered node can always be paid, staked and slashed.
        await GrainFactory.GetGrain<ILedgerGrain>(0).Open([AccountId.Provider(NodeId), AccountId.Stake(NodeId), AccountId.Contributor(NodeId)]);
        var now = clock.UtcNow;
        var created = !Node.IsRegistered;
        var previousRegion = Node.Capabilities?.Region;
        Node.PublicKey = registration.PublicKey;
        Node.Capabilities = registration.Capabilities;
        Node.RegistrationSignedAt = registration.Timestamp;
        Node.UpdatedAt = now;
        if (created)
        {
            Node.RegisteredAt = now;
            Node.Status = NodeStatus.Registered;
            Node.StatusChangedAt = now;
        }

        await WriteState();

        var region = registration.Capabilities.Region;
        await GrainFactory.GetGrain<IRegionCatalogGrain>(0).Add(region);
        if (previousRegion is not null && previousRegion != region)
        {
            await DirectoryShard(previousRegion).Remove(NodeId);
        }

        await SyncDirectory();
        if (created)
        {
            await Announce(null, "registered");
        }

        return new RegistrationResult(created ? RegistrationOutcome.Created : RegistrationOutcome.Updated, Details());
    }

    public ValueTask<byte[]?> GetPublicKey() => ValueTask.FromResult(Node.IsRegistered ? Node.PublicKey : null);

    public ValueTask<NodeDetails?> GetDetails() => ValueTask.FromResult(Node.IsRegistered ? Details() : null);

    public async Task<double> RecordEvidence(string id, ReputationEvidence evidence)
    {
        var key = NodeState.EvidenceKey(id);
        if (!Node.IsRegistered || evidence == ReputationEvidence.None || Node.EvidenceTaken.Contains(key))
        {
            return Score;
        }

        Node.EvidenceTaken.Add(key);
        if (Node.EvidenceTaken.Count > NodeState.EvidenceMemory)
        {
            Node.EvidenceTaken.RemoveAt(0);
        }

        var before = Score;
        Node.Agreed += evidence.Agreed;
        Node.Disagreed += evidence.Disagreed;
        Node.Delivered += evidence.Delivered;
        Node.Abandoned += evidence.Abandoned;
        Node.Records += evidence.Records;
        Node.QualitySum += evidence.QualitySum;
        Node.Served += evidence.Served;
        Node.Unanswered += evidence.Unanswered;
        if (evidence.Disagreed > 0 || evidence.Abandoned > 0)
        {
            LogDisagreed(NodeId, Node.Disagreed, Node.Abandoned, Score);
        }

        await WriteState();
        if (Math.Abs(Score - before) >= 0.001 || evidence.Disagreed + evidence.Abandoned + evidence.Agreed > 0)
        {
            await SyncDirectory(); // the scheduler reads reputation from the directory
        }

        return Score;
    }

    private double Score => Reputation.Score(Node.Evidence);

    public async Task CheckLiveness()
    {
        _livenessDueAt = null;
        if (!Node.IsRegistered || Node.Status is not (NodeStatus.Online or NodeStatus.Suspect or NodeStatus.Draining) || Node.LastHeardAt is not { } lastHeard)
        {
            return;
        }

        var now = clock.UtcNow;
        var verdict = _liveness.Evaluate(lastHeard, now) switch
        {
            Liveness.Offline => NodeStatus.Offline,
            Liveness.Suspect => NodeStatus.Suspect,
            _ => Heard,
        };

        if (verdict != Node.Status)
        {
            await ChangeStatus(verdict, $"no telemetry for {(now - lastHeard).TotalSeconds:0.#} s");
        }

        ArmLivenessTimer();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => CheckLiveness();

    public async Task<TelemetryVerdict> Report(TelemetryBatch batch)
    {
        if (!Node.IsRegistered)
        {
            metrics.BatchRejected(RejectReasons.UnknownNode);
            return TelemetryVerdict.UnknownNode;
        }

        // In microseconds, as the journal keeps it, so that a replay puts back exactly what was applied.
        var now = clock.UtcNow;
        now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));
        if (batch.Sequence <= Node.LastSequence)
        {
            Reject(RejectReasons.Replayed);
            return TelemetryVerdict.Replayed;
        }

        if (now - batch.Timestamp > _options.MaxBatchAge)
        {
            Reject(RejectReasons.Stale);
            return TelemetryVerdict.Stale;
        }

        // Not re-entrant: no other batch is taken while this one is written, so the sequence check above holds.
        var journaled = await Journal(batch, now);
        if (journaled != Journaled.Durable)
        {
            if (journaled == Journaled.Behind)
            {
                // Another activation of this node took telemetry: this one's copy is stale. The agent's retry reaches
                // a fresh activation, which reads the state and the journal.
                _superseded = true;
                DeactivateOnIdle();
            }

            metrics.BatchRejected(RejectReasons.Overloaded);
            return TelemetryVerdict.Overloaded;
        }

        Apply(batch, now);
        metrics.BatchAccepted();
        var applied = clock.UtcNow; // lag runs from the sample to the moment it is durable and applied
        foreach (var sample in batch.Samples)
        {
            metrics.RecordLag(applied - sample.At);
        }

        if (Node.Status is NodeStatus.Registered or NodeStatus.Suspect or NodeStatus.Offline)
        {
            await ChangeStatus(Heard, "telemetry arrived");
        }

        if (_livenessDueAt is null)
        {
            ArmLivenessTimer();
        }

        _health.Observe(batch, now, metrics.Anomaly);
        if (_health.AssessmentDue(now))
        {
            metrics.ReportRisk(NodeId, _health.Assess(failureModels.Current, now).Risk);
            await Decide(now);
        }

        return TelemetryVerdict.Accepted;
    }

    /// <summary>Whether the batch is durable; unavailable when the journal is behind or its database unreachable (the
    /// journal logs why). A write that failed after it committed is harmless: the agent's retry finds the batch
    /// journaled and applies it.</summary>
    private async Task<Journaled> Journal(TelemetryBatch batch, DateTimeOffset now)
    {
        try
        {
            return await journal.Append(batch, Node.LastSequence, now);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Journaled.Unavailable;
        }
    }

    /// <summary>Takes a journaled batch into the summary, the watermark and the counters.</summary>
    private void Apply(TelemetryBatch batch, DateTimeOffset receivedAt)
    {
        var offset = receivedAt - batch.Timestamp;
        Node.ClockOffset = Node.Counters.Accepted == 0
            ? offset
            : Node.ClockOffset + ((offset - Node.ClockOffset) * Ewma.Weight(_options.TelemetryInterval, _options.SummaryWindow));
        Node.LastSequence = batch.Sequence;
        Node.LastHeardAt = receivedAt;
        Node.Telemetry = TelemetrySummarizer.Add(Node.Telemetry, batch.Samples, _options.SummaryWindow);
        Node.Counters = Node.Counters with { Accepted = Node.Counters.Accepted + 1 };
        _changes++;
    }

    public async Task<NodeDetails?> SetMaintenanceMode(MaintenanceMode mode)
    {
        if (!Node.IsRegistered)
        {
            return null;
        }

        if (mode != Node.Mode)
        {
            // Given back to risk, a node an operator held decides afresh: the settling time is for drains risk began.
            var fresh = mode == MaintenanceMode.Auto && Node.Mode == MaintenanceMode.Drain;
            Node.Mode = mode;
            await WriteState();
            LogModeSet(NodeId, mode);
            await Decide(clock.UtcNow, fresh);
        }

        return Details();
    }

    public async Task WorkFailed()
    {
        // Failures are the rare examples: they go to the model at once rather than at the next checkpoint.
        _health.LabelFailure(clock.UtcNow);
        await SendExamples();
    }

    /// <summary>The status a node has while it is heard: Draining when it is being drained, Online otherwise.</summary>
    private NodeStatus Heard => Node.Draining ? NodeStatus.Draining : NodeStatus.Online;

    private async Task Decide(DateTimeOffset now, bool fresh = false)
    {
        var held = Node.Mode switch
        {
            MaintenanceMode.Drain => true,
            MaintenanceMode.Keep => false,
            _ => (bool?)null,
        };
        var drain = _health.ShouldDrain(Node.Draining, held, now, fresh);
        if (drain == Node.Draining)
        {
            return;
        }

        Node.Draining = drain;
        var risk = _health.Risk;
        var why = held is not null ? $"operator set {Node.Mode.ToString().ToLowerInvariant()}" : $"risk {risk.Risk:0.00} ({risk.Source}: {risk.Reason})";
        if (drain)
        {
            metrics.Drained(held is not null ? "operator" : "risk");
        }

        if (Node.Status is NodeStatus.Online or NodeStatus.Draining)
        {
            await ChangeStatus(Heard, drain ? $"draining: {why}" : $"back in service: {why}");
        }
        else
        {
            await WriteState(); // not heard now: it comes back as Draining or Online accordingly
        }
    }

    private async Task SendExamples()
    {
        var examples = _health.Examples.ToArray();
        if (examples.Length == 0)
        {
            return;
        }

        try
        {
            await GrainFactory.GetGrain<IFailureModelGrain>(0).Report(examples);
            _health.ExamplesSent(examples.Length);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogExamplesNotSent(ex, NodeId, examples.Length); // kept for the next checkpoint
        }
    }

    private void Reject(string reason)
    {
        metrics.BatchRejected(reason);
        Node.Counters = reason == RejectReasons.Replayed
            ? Node.Counters with { Replayed = Node.Counters.Replayed + 1 }
            : Node.Counters with { Stale = Node.Counters.Stale + 1 };
    }

    private async Task ChangeStatus(NodeStatus next, string reason)
    {
        var previous = Node.Status;
        if (next == NodeStatus.Offline)
        {
            _health.LabelFailure(clock.UtcNow);
        }

        Node.Status = next;
        Node.StatusChangedAt = clock.UtcNow;
        await WriteState();

        if (next is NodeStatus.Online or NodeStatus.Draining && previous is NodeStatus.Registered or NodeStatus.Offline)
        {
            await this.RegisterOrUpdateReminder(RecoveryReminder, _options.RecoveryReminderPeriod, _options.RecoveryReminderPeriod);
        }
        else if (next == NodeStatus.Offline && await this.GetReminder(RecoveryReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        await SyncDirectory();
        await Announce(previous, reason);
        LogStatusChanged(NodeId, previous, next, reason);
    }

    // Events are notifications: a failure to publish one is logged, never undoes the change it reports.
    private async Task Announce(NodeStatus? previous, string reason)
    {
        try
        {
            await _events!.OnNextAsync(new NodeEvent(NodeId, Node.Capabilities!.Region, previous, Node.Status, Node.StatusChangedAt, reason));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogAnnounceFailed(ex, NodeId);
        }
    }

    // The directory is derived from node state: when it cannot be updated now, the checkpoint timer tries again.
    private async Task SyncDirectory()
    {
        try
        {
            await DirectoryShard(Node.Capabilities!.Region).Upsert(Summary());
            _directoryBehind = false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _directoryBehind = true;
            LogDirectoryBehind(ex, NodeId);
        }
    }

    // The liveness timer runs on the platform clock, outside the grain's scheduler, so it only sends the grain a
    // message; the check itself runs as a normal grain call.
    private void ArmLivenessTimer()
    {
        var now = clock.UtcNow;
        var due = Node.LastHeardAt is { } lastHeard ? _liveness.NextChangeAt(lastHeard, now) : null;
        if (due is null && Node.Status is NodeStatus.Online or NodeStatus.Suspect or NodeStatus.Draining)
        {
            // The clock passed the offline mark while the last change was written: judge again at once, not never.
            due = now;
        }

        _livenessDueAt = due;
        if (due is not { } at)
        {
            _livenessTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        _livenessTimer ??= clock.Time.CreateTimer(
            static self => _ = ((NodeGrain)self!).RequestLivenessCheck(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var delay = at - now;
        _livenessTimer.Change(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private async Task RequestLivenessCheck()
    {
        try
        {
            await _self!.CheckLiveness();
        }
        catch (Exception ex)
        {
            LogLivenessCheckFailed(ex, NodeId); // the recovery reminder checks again
        }
    }

    private async Task Checkpoint(CancellationToken cancellationToken)
    {
        if (_changes != _written)
        {
            await WriteState();
        }

        if (_directoryBehind)
        {
            await SyncDirectory();
        }

        await SendExamples();
    }

    /// <summary>
    /// Completes once every change made before the call is written. Writes go one at a time: the checkpoint timer
    /// interleaves with calls that change the status, and two writes of one activation in flight at once would meet
    /// each other's version (the storage would take that for a second activation and stand this one down).
    /// </summary>
    private Task WriteState() => (_save ??= new GroupCommit(WriteNow)).Persist();

    private async Task WriteNow()
    {
        // Telemetry may be applied while the write is under way (checkpoints interleave): only what was there when
        // the write started counts as written.
        var upTo = _changes;
        var journaled = Node.LastSequence;
        try
        {
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            // Another activation of this node wrote since this one read: this one's copy is stale, and the storage
            // deactivates it (SnapshotGrainStorage). A fresh activation reads that write and replays the journal.
            _superseded = true;
            throw;
        }

        _written = Math.Max(_written, upTo);
        journal.Trim(NodeId, journaled);
    }

    private INodeDirectoryGrain DirectoryShard(string region) =>
        GrainFactory.GetGrain<INodeDirectoryGrain>(NodeDirectory.ShardKey(region, NodeId));

    private NodeSummary Summary()
    {
        var c = Node.Capabilities!;
        return new NodeSummary(NodeId, Node.Status, c.Region, c.CpuCores, c.MemoryBytes, c.Gpus.Length, c.GpuVramBytes,
            c.Latitude, c.Longitude, c.AgentVersion, Node.StatusChangedAt, Score);
    }

    private NodeDetails Details() =>
        new(NodeId, Node.PublicKey!, Node.Status, Node.Capabilities!, Node.RegisteredAt, Node.UpdatedAt, Node.StatusChangedAt,
            Node.LastHeardAt, Node.LastSequence, Node.Telemetry, Node.Counters, new NodeReputation(Node.Agreed, Node.Disagreed, Score, Node.Delivered, Node.Abandoned, Node.Records, Node.QualitySum, Node.Served, Node.Unanswered),
            new NodeMaintenance(Node.Mode, _health.Risk.Risk, _health.Risk.Source, _health.Risk.Reason, _health.AssessedAt, _health.Anomalies));

    [LoggerMessage(LogLevel.Warning, "Registration for node {NodeId} refused: it carries a different public key")]
    private partial void LogKeyMismatch(string nodeId);

    [LoggerMessage(LogLevel.Information, "Node {NodeId}: {Previous} -> {Current} ({Reason})")]
    private partial void LogStatusChanged(string nodeId, NodeStatus previous, NodeStatus current, string reason);

    [LoggerMessage(LogLevel.Warning, "Node {NodeId}: publishing its status event failed")]
    private partial void LogAnnounceFailed(Exception ex, string nodeId);

    [LoggerMessage(LogLevel.Warning, "Node {NodeId}: the directory could not be updated; retrying at the next checkpoint")]
    private partial void LogDirectoryBehind(Exception ex, string nodeId);

    [LoggerMessage(LogLevel.Warning, "Node {NodeId} returned a result the majority did not or abandoned a lease ({Disagreed} and {Abandoned} so far); reputation now {Score:0.###}")]
    private partial void LogDisagreed(string nodeId, long disagreed, long abandoned, double score);

    [LoggerMessage(LogLevel.Warning, "Final checkpoint of node {NodeId} failed")]
    private partial void LogFinalCheckpointFailed(Exception ex, string nodeId);

    [LoggerMessage(LogLevel.Information, "Node {NodeId}: an operator set its maintenance mode to {Mode}")]
    private partial void LogModeSet(string nodeId, MaintenanceMode mode);

    [LoggerMessage(LogLevel.Warning, "Node {NodeId}: {Count} failure-model examples not sent; retrying at the next checkpoint")]
    private partial void LogExamplesNotSent(Exception ex, string nodeId, int count);

    [LoggerMessage(LogLevel.Warning, "Liveness check for node {NodeId} failed")]
    private partial void LogLivenessCheckFailed(Exception ex, string nodeId);
}
