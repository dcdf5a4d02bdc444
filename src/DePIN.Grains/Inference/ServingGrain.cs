using System.Security.Cryptography;
using DePIN.Abstractions.Inference;
using DePIN.Core.Inference;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Scheduling;
using DePIN.Core.Work;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace DePIN.Grains.Inference;

/// <summary>Settings of inference routing (configuration section <c>Inference</c>).</summary>
public sealed class InferenceOptions
{
    public const string Section = "Inference";

    /// <summary>How long a node has to answer before the request goes to the next one.</summary>
    public TimeSpan AnswerTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Nodes tried per request, at most.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How long a node that timed out is left alone.</summary>
    public TimeSpan SuspectFor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The answer time assumed for a node not measured yet: lower tries new nodes sooner, higher keeps to known ones.</summary>
    public TimeSpan UnmeasuredAnswer { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>A node that has not polled for this long is no longer serving.</summary>
    public TimeSpan ServingLease { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>How often the requests each node answered or left unanswered go to its reputation.</summary>
    public TimeSpan EvidenceInterval { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Routes one model version's requests (key: its hash) over the nodes serving it, and holds their inboxes. Nodes
/// announce themselves by long-polling for requests. Each request goes to the node with the least expected time to
/// an answer: the fibre round trip from the input's location to the node, plus the node's measured answer time
/// through the platform (a moving average) times the requests already waiting on it, over the node's reputation;
/// within the request's residency region if it has one. A node that does not answer within <see cref="InferenceOptions.AnswerTimeout"/> is left
/// alone for a while and the request goes to the next. An answer counts only with a receipt that verifies: the
/// node's signature over this model, this input's hash and the answer. In memory: requests are not durable, and a
/// caller whose silo dies retries. Every <see cref="InferenceOptions.EvidenceInterval"/> each node's answered and
/// unanswered requests (a timeout or a receipt that does not verify) since the last time go to its reputation, in one
/// call per node rather than one per request; a silo that dies loses at most one interval's evidence, never money.
/// </summary>
[Reentrant]
public sealed partial class ServingGrain(PlatformClock clock, IOptions<InferenceOptions> options, ILogger<ServingGrain> logger) : Grain, IServingGrain
{
    private const double Smoothing = 0.2;

    private readonly Dictionary<string, Serving> _nodes = [];
    private readonly Dictionary<string, TaskCompletionSource<InferenceReceipt>> _pending = [];
    private readonly Dictionary<string, ReputationEvidence> _evidence = [];
    private readonly List<(string NodeId, string Id, ReputationEvidence Evidence)> _unsent = [];
    private readonly string _activation = Guid.NewGuid().ToString("N");
    private long _reports;
    private readonly InferenceOptions _options = options.Value;

    private string ModelHash => this.GetPrimaryKeyString();

    private sealed class Serving(ServingPlace place)
    {
        public ServingPlace Place { get; set; } = place;
        public Queue<InferenceTask> Inbox { get; } = new();
        public TaskCompletionSource Arrived { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public DateTimeOffset LastPoll { get; set; }
        public int InFlight { get; set; }
        public double? AnswerMs { get; set; }
        public DateTimeOffset SuspectUntil { get; set; }
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(ReportEvidence, new GrainTimerCreationOptions(_options.EvidenceInterval, _options.EvidenceInterval) { Interleave = true });
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => ReportEvidence(cancellationToken);

    public async Task<Routed> Infer(byte[] input, double latitude, double longitude, string? residency)
    {
        var inputHash = Convert.ToHexStringLower(SHA256.HashData(input));
        var tried = new HashSet<string>();
        for (var attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            if (Choose(latitude, longitude, residency, tried) is not { } node)
            {
                return new Routed(null, attempt - 1, tried.Count == 0
                    ? $"No node is serving model {ModelHash}{(residency is null ? "" : $" in {residency}")}."
                    : $"No node answered; tried {string.Join(", ", tried)}.");
            }

            tried.Add(node.Place.NodeId);
            var requestId = Guid.NewGuid().ToString("N");
            var answer = new TaskCompletionSource<InferenceReceipt>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[requestId] = answer;
            node.Inbox.Enqueue(new InferenceTask(requestId, input));
            node.InFlight++;
            node.Arrived.TrySetResult();
            var started = clock.Time.GetTimestamp();
            try
            {
                var receipt = await answer.Task.WaitAsync(_options.AnswerTimeout, clock.Time);
                if (receipt.NodeId == node.Place.NodeId && receipt.ModelHash == ModelHash && receipt.InputHash == inputHash && receipt.Verify())
                {
                    var took = clock.Time.GetElapsedTime(started).TotalMilliseconds;
                    node.AnswerMs = node.AnswerMs is { } ms ? ms + Smoothing * (took - ms) : took;
                    Witness(node.Place.NodeId, new ReputationEvidence(Served: 1));
                    return new Routed(receipt, attempt, null);
                }

                LogBadReceipt(ModelHash, node.Place.NodeId);
            }
            catch (TimeoutException)
            {
                LogTimedOut(ModelHash, node.Place.NodeId, attempt);
            }
            finally
            {
                _pending.Remove(requestId);
                node.InFlight--;
            }

            node.SuspectUntil = clock.UtcNow + _options.SuspectFor;
            Witness(node.Place.NodeId, new ReputationEvidence(Unanswered: 1));
        }

        return new Routed(null, _options.MaxAttempts, $"No node answered in time; tried {string.Join(", ", tried)}.");
    }

    public async Task<InferenceTask[]> Poll(ServingPlace place, TimeSpan wait)
    {
        if (!_nodes.TryGetValue(place.NodeId, out var node))
        {
            _nodes[place.NodeId] = node = new Serving(place);
            LogServing(ModelHash, place.NodeId, place.Region);
        }

        node.Place = place;
        node.LastPoll = clock.UtcNow;
        if (node.Inbox.Count == 0 && wait > TimeSpan.Zero)
        {
            node.Arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
            using var done = new CancellationTokenSource();
            await Task.WhenAny(node.Arrived.Task, Task.Delay(wait, clock.Time, done.Token));
            await done.CancelAsync();
        }

        node.LastPoll = clock.UtcNow;
        var tasks = node.Inbox.ToArray();
        node.Inbox.Clear();
        return tasks;
    }

    public Task Answer(string nodeId, string requestId, InferenceReceipt receipt)
    {
        if (_pending.TryGetValue(requestId, out var answer))
        {
            answer.TrySetResult(receipt);
        }

        return Task.CompletedTask;
    }

    private void Witness(string nodeId, ReputationEvidence evidence) =>
        _evidence[nodeId] = _evidence.TryGetValue(nodeId, out var earlier) ? earlier.Add(evidence) : evidence;

    /// <summary>
    /// Hands each node's evidence since the last report to its grain, under an id of its own. What a node grain did not
    /// confirm is sent again at the next report under the same id, so it is taken once even when only its answer was lost.
    /// </summary>
    private async Task ReportEvidence(CancellationToken cancellationToken)
    {
        foreach (var (nodeId, evidence) in _evidence)
        {
            _unsent.Add((nodeId, $"serving:{ModelHash}:{_activation}:{++_reports}", evidence));
        }

        _evidence.Clear();
        var report = _unsent.ToList();
        _unsent.Clear();
        foreach (var item in report)
        {
            try
            {
                await GrainFactory.GetGrain<INodeGrain>(item.NodeId).RecordEvidence(item.Id, item.Evidence);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogEvidenceFailed(e, ModelHash, item.NodeId);
                _unsent.Add(item);
            }
        }
    }

    private Serving? Choose(double latitude, double longitude, string? residency, HashSet<string> tried)
    {
        var now = clock.UtcNow;
        Serving? best = null;
        var bestCost = double.MaxValue;
        foreach (var node in _nodes.Values)
        {
            if (tried.Contains(node.Place.NodeId) || node.SuspectUntil > now || now - node.LastPoll > _options.ServingLease ||
                residency is not null && node.Place.Region != residency)
            {
                continue;
            }

            var answer = node.AnswerMs ?? _options.UnmeasuredAnswer.TotalMilliseconds;
            var cost = (Geo.RoundTripMs(Geo.DistanceKm(latitude, longitude, node.Place.Latitude, node.Place.Longitude)) + answer * (1 + node.InFlight))
                       / Math.Max(node.Place.Reputation, 0.05);
            if (cost < bestCost)
            {
                bestCost = cost;
                best = node;
            }
        }

        return best;
    }

    [LoggerMessage(LogLevel.Information, "Model {ModelHash}: node {NodeId} serves it, in {Region}")]
    private partial void LogServing(string modelHash, string nodeId, string region);

    [LoggerMessage(LogLevel.Warning, "Model {ModelHash}: node {NodeId} did not answer in time (attempt {Attempt}); trying the next")]
    private partial void LogTimedOut(string modelHash, string nodeId, int attempt);

    [LoggerMessage(LogLevel.Warning, "Model {ModelHash}: node {NodeId}'s reputation evidence could not be recorded; it is kept for the next report")]
    private partial void LogEvidenceFailed(Exception e, string modelHash, string nodeId);

    [LoggerMessage(LogLevel.Warning, "Model {ModelHash}: node {NodeId} answered with a receipt that does not verify")]
    private partial void LogBadReceipt(string modelHash, string nodeId);
}
