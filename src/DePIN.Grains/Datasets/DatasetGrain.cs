using System.Globalization;
using System.Text.Json;
using DePIN.Abstractions;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Datasets;
using DePIN.Core.Economy;
using DePIN.Core.Identity;
using DePIN.Core.Work;
using DePIN.Grains.Diagnostics;
using DePIN.Grains.Economy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Concurrency;

namespace DePIN.Grains.Datasets;

[GenerateSerializer, Alias("DePIN.DatasetState")]
public sealed class DatasetState
{
    [Id(0)] public DatasetDefinition? Definition { get; set; }

    [Id(1)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Leaves covered by <see cref="Frontier"/>; the records table may hold more, replayed on activation.</summary>
    [Id(2)] public long Size { get; set; }

    [Id(3)] public List<byte[]> Frontier { get; set; } = [];

    [Id(4)] public SignedTreeHead? Head { get; set; }

    /// <summary>Leaves whose contributors have been paid: the next reward round starts here.</summary>
    [Id(5)] public long RewardedSize { get; set; }

    /// <summary>The reward round under way, if any: its postings are fixed once it starts, so a retry pays nothing twice.</summary>
    [Id(6)] public RewardRound? Reward { get; set; }

    /// <summary>
    /// Evidence of reward rounds that contributors' reputations have not yet taken; told again each tick until taken,
    /// without holding up payment (a node that cannot be reached delays only its own evidence).
    /// </summary>
    [Id(7)] public List<RoundEvidence> Untold { get; set; } = [];
}

/// <summary>One round of contributors' rewards: leaves <see cref="From"/> to <see cref="To"/> − 1, and its postings the ledger has not accepted yet.</summary>
[GenerateSerializer, Alias("DePIN.RewardRound")]
public sealed class RewardRound
{
    [Id(0)] public long From { get; set; }

    [Id(1)] public long To { get; set; }

    [Id(2)] public List<PostingRequest> Unpaid { get; set; } = [];
}

/// <summary>What a reward round tells one contributor's reputation, under the round's id: its records and their summed quality.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.RoundEvidence")]
public sealed record RoundEvidence(
    [property: Id(0)] string Id, [property: Id(1)] string NodeId, [property: Id(2)] long Records, [property: Id(3)] double QualitySum);

/// <summary>
/// One dataset: its definition and its append-only Merkle log. Records and leaf hashes live in PostgreSQL
/// (<see cref="DatasetLog"/>); the state holds the definition, the size, the compact frontier and the latest head.
/// </summary>
/// <remarks>
/// Reentrant: contributions are checked concurrently (signatures on the thread pool), then join the next group.
/// Groups append one at a time: leaf indexes follow the frontier, the group's rows, strata and signed head commit in
/// one transaction, and only then are its contributions answered. The records table is the truth: the state is
/// saved after the fact, and an activation replays rows past the saved size, so a silo that dies between the two
/// loses nothing it acknowledged. A second activation that raced this one cannot commit the same leaf index (primary
/// key), so the log cannot fork.
/// Every <see cref="EconomyOptions.RewardInterval"/> the grain pays the contributors of the leaves appended since the
/// last round, from the treasury (<see cref="Settlement.Rewards"/>): the round's postings are computed once, saved in
/// the state, then posted under ids derived from the leaf range, so a crash anywhere repeats the same postings and the
/// ledger answers the repeat with the first receipt. A posting the treasury cannot cover waits for the next tick.
/// </remarks>
[Reentrant]
public sealed partial class DatasetGrain(
    [PersistentState("dataset", StorageNames.Datasets)] IPersistentState<DatasetState> state,
    PlatformClock clock,
    DePINMetrics metrics,
    IOptions<DatasetOptions> options,
    IOptions<EconomyOptions> economy,
    ILogger<DatasetGrain> logger,
    DatasetLog? log = null,
    PlatformSigner? signer = null)
    : Grain, IDatasetGrain, IRemindable
{
    // Keeps a dataset active, so depin_dataset_records keeps counting it after its silo dies.
    private const string KeepActiveReminder = "keep-active";

    // The unique constraint on a dataset's content hashes, as PostgreSQL names it (schema 0002).
    private const string ContentConstraint = "depin_dataset_records_dataset_content_hash_key";

    /// <summary>Most contributions one transaction carries.</summary>
    public const int MaxGroup = 1000;

    private static readonly TimeSpan ContributorCacheTime = TimeSpan.FromSeconds(30);

    /// <summary>Content hashes of the latest appends kept in memory, so a retry needs no query.</summary>
    private const int RecentCapacity = 100_000;

    private readonly GroupCommit _save = new(state.WriteStateAsync);
    private readonly List<Pending> _pending = [];
    private readonly RecentLeaves _recent = new(RecentCapacity);
    private readonly RecentLeaves _recentSamples = new(RecentCapacity);
    private readonly Dictionary<string, (NodeDetails? Node, DateTimeOffset At)> _contributors = new(StringComparer.Ordinal);
    private CompactFrontier _frontier = new();
    private readonly QualityScorer _quality = new();
    private readonly Dictionary<string, DateTimeOffset> _checkedAt = new(StringComparer.Ordinal);
    private Dictionary<string, double> _floors = [];
    private DatasetSchema? _schema;
    private bool _appending;
    private bool _rewarding;

    private string Name => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Definition is not { } definition || log is null)
        {
            return;
        }

        _schema = DatasetDefinition.Schema(definition.Fields);
        _floors = Floors(definition.Fields);
        _frontier = CompactFrontier.Restore(state.State.Size, state.State.Frontier)
            ?? throw new InvalidOperationException($"Dataset {Name}: the saved frontier does not fit size {state.State.Size}.");
        var replayed = await log.LeafHashesFrom(Name, _frontier.Size, cancellationToken);
        foreach (var hash in replayed)
        {
            _frontier.Append(hash);
        }

        if (await log.LatestHead(Name, cancellationToken) is { } head && head.Size >= (state.State.Head?.Size ?? 0))
        {
            state.State.Head = ToView(head);
        }

        if (replayed.Count > 0)
        {
            LogReplayed(Name, replayed.Count, _frontier.Size);
            state.State.Size = _frontier.Size;
            state.State.Frontier = [.. _frontier.Hashes];
            await _save.Persist();
        }

        metrics.ReportDatasetRecords(Name, _frontier.Size);
        await this.RegisterOrUpdateReminder(KeepActiveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5));
        StartRewards();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.ForgetDataset(Name);
        return _save.Pending;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    public async Task<string?> Create(DatasetDefinition definition)
    {
        if (log is null || signer is null)
        {
            return "Datasets need PostgreSQL: start the silo with ConnectionStrings:depin.";
        }

        if (state.State.Definition is { } existing)
        {
            return Same(existing, definition) ? null : $"Dataset '{Name}' exists with a different definition.";
        }

        if (Problems(definition) is { Count: > 0 } problems)
        {
            return string.Join(" ", problems);
        }

        var now = clock.UtcNow;
        state.State.Definition = definition;
        state.State.CreatedAt = now;
        state.State.Head = await Sign(0, MerkleHash.Empty.ToArray(), now);
        _schema = DatasetDefinition.Schema(definition.Fields);
        _floors = Floors(definition.Fields);
        await _save.Persist();
        metrics.ReportDatasetRecords(Name, 0);
        await this.RegisterOrUpdateReminder(KeepActiveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5));
        StartRewards();
        return null;
    }

    public Task<DatasetInfo?> Get() => Task.FromResult(state.State is { Definition: { } d, Head: { } head }
        ? new DatasetInfo(Name, d, state.State.CreatedAt, head)
        : null);

    public async Task<ContributionResult> Contribute(SignedContribution contribution)
    {
        var checkedContribution = await Check(contribution);
        if (checkedContribution.Rejection is { } rejection)
        {
            metrics.ContributionRejected(rejection.Reason);
            return new ContributionResult(null, rejection);
        }

        var pending = checkedContribution.Pending!;
        _pending.Add(pending);
        if (!_appending)
        {
            _appending = true;
            _ = AppendAll();
        }

        var result = await pending.Done.Task;
        if (result.Receipt is { } receipt)
        {
            metrics.ContributionAccepted(receipt.Duplicate);
        }
        else
        {
            metrics.ContributionRejected(result.Rejection!.Reason);
        }

        return result;
    }

    public async Task<MerkleProofView?> ProveInclusion(long leafIndex, long treeSize)
    {
        if (log is null || leafIndex < 0 || treeSize <= leafIndex || treeSize > _frontier.Size)
        {
            return null;
        }

        var proof = await MerkleStrata.Resolve(MerkleProof.InclusionRanges(leafIndex, treeSize), Read);
        return new MerkleProofView(leafIndex, 0, treeSize, [.. proof.Select(Convert.ToHexStringLower)]);
    }

    public async Task<MerkleProofView?> ProveConsistency(long firstSize, long secondSize)
    {
        if (log is null || firstSize < 0 || secondSize < firstSize || secondSize > _frontier.Size)
        {
            return null;
        }

        var proof = await MerkleStrata.Resolve(MerkleProof.ConsistencyRanges(firstSize, secondSize), Read);
        return new MerkleProofView(0, firstSize, secondSize, [.. proof.Select(Convert.ToHexStringLower)]);
    }

    public async Task<long?> Find(string contentHash)
    {
        if (log is null || !IsHash(contentHash))
        {
            return null;
        }

        var found = await log.FindExisting(Name, [Convert.FromHexString(contentHash)]);
        return found.Count == 1 ? found.Values.Single() : null;
    }

    public async Task<SnapshotManifest?> Snapshot()
    {
        if (log is null || state.State is not { Definition: { } definition, Head: { } head })
        {
            return null;
        }

        if (await GetSnapshot(head.Size) is { } taken)
        {
            return taken;
        }

        var (contributors, regions, sensors) = await log.Sources(Name, head.Size);
        static List<SourceCount> Counts(List<(string, long)> counts) => [.. counts.Select(c => new SourceCount(c.Item1, c.Item2))];
        static SourceDiversity Measure(List<(string, long)> counts)
        {
            var d = Diversity.Of(counts.Select(c => c.Item2));
            return new SourceDiversity(d.Sources, Math.Round(d.EntropyBits, 4), Math.Round(d.Evenness, 4), Math.Round(d.TopShare, 4));
        }

        var scores = contributors.Select(c => _quality.Score(c.Item1)).ToArray();
        var quality = new QualitySummary(
            scores.Length == 0 ? 0 : Math.Round(scores.Average(), 4),
            scores.Length == 0 ? 0 : Math.Round(scores.Min(), 4),
            contributors.Count(c => _quality.IsQuarantined(c.Item1)),
            [.. contributors.Select(c => new ContributorQuality(c.Item1, Math.Round(_quality.Score(c.Item1), 4), _quality.IsQuarantined(c.Item1)))]);
        var manifest = new SnapshotManifest(Name, head.Size, head.Root, head, definition, clock.UtcNow,
            Counts(contributors), Counts(regions), Counts(sensors),
            new Dictionary<string, SourceDiversity>(StringComparer.Ordinal)
            {
                ["contributors"] = Measure(contributors),
                ["regions"] = Measure(regions),
                ["sensors"] = Measure(sensors),
            },
            quality);
        await log.SaveSnapshot(Name, head.Size, manifest.CreatedAt, JsonSerializer.Serialize(manifest, ApiJson.Options));
        // Two calls racing at one size keep the first manifest written.
        return await GetSnapshot(head.Size);
    }

    public async Task<SnapshotManifest?> GetSnapshot(long size) =>
        log is not null && await log.LoadSnapshot(Name, size) is { } json ? JsonSerializer.Deserialize<SnapshotManifest>(json, ApiJson.Options) : null;

    /// <summary>Everything about a contribution that does not need the log: format, signature, schema, contributor.</summary>
    private async Task<(Pending? Pending, ContributionRejection? Rejection)> Check(SignedContribution contribution)
    {
        if (state.State.Definition is not { } definition || _schema is null)
        {
            return (null, new ContributionRejection(ContributionReasons.UnknownDataset, $"There is no dataset '{Name}'."));
        }

        if (Contribution.FromCanonical(contribution.Record) is not { } record)
        {
            return (null, new ContributionRejection(ContributionReasons.Malformed, "The record is not in the canonical contribution format."));
        }

        if (record.Dataset != Name)
        {
            return (null, new ContributionRejection(ContributionReasons.Malformed, $"The record is signed for dataset '{record.Dataset}', not '{Name}'."));
        }

        // Signatures are checked and hashes computed on the thread pool, so a busy dataset uses every core while it
        // appends; the append itself only folds leaf hashes into the frontier.
        var hashes = await Task.Run(() =>
        {
            if (contribution.PublicKey.Length != NodeIdentity.PublicKeyLength
                || NodeIdentity.DeriveNodeId(contribution.PublicKey) != record.NodeId
                || NodeIdentity.TryImportPublicKey(contribution.PublicKey) is not { } key
                || !NodeIdentity.Verify(key, contribution.Record, contribution.Signature))
            {
                return default;
            }

            var content = Contribution.ContentHash(contribution.Record);
            return (Content: content,
                Leaf: MerkleHash.Leaf(Contribution.LeafEntry(contribution.Record, contribution.PublicKey, contribution.Signature)),
                Hex: Convert.ToHexStringLower(content),
                Sample: SampleKeyOf(record));
        });
        if (hashes.Content is null)
        {
            return (null, new ContributionRejection(ContributionReasons.BadSignature,
                $"The signature is not node {record.NodeId}'s Ed25519 signature of the canonical record."));
        }

        if (_quality.IsQuarantined(record.NodeId))
        {
            return (null, new ContributionRejection(ContributionReasons.Quarantined,
                $"Node {record.NodeId} is quarantined from dataset '{Name}': its readings kept disagreeing with nearby contributors' (score {_quality.Score(record.NodeId):0.###})."));
        }

        if (_schema.Check(record.Values) is { Count: > 0 } errors)
        {
            return (null, new ContributionRejection(ContributionReasons.Schema, "The record does not fit the dataset's schema.",
                errors.GroupBy(e => e.Field, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.Reason).ToArray(), StringComparer.Ordinal)));
        }

        var (contributor, refused) = await Authorize(record.NodeId, definition.Contributors);
        if (refused is not null)
        {
            return (null, refused);
        }

        return (new Pending(record, contribution, hashes.Content, hashes.Hex, hashes.Leaf, contributor!.Capabilities.Region, hashes.Sample), null);
    }

    /// <summary>The contributing node, or why it may not contribute.</summary>
    private async Task<(NodeDetails? Node, ContributionRejection? Refused)> Authorize(string nodeId, ContributorPolicy policy)
    {
        if (policy.Kind == ContributorPolicyKind.AllowList && !(policy.Nodes ?? []).Contains(nodeId, StringComparer.Ordinal))
        {
            return (null, new ContributionRejection(ContributionReasons.Unauthorised, $"Node {nodeId} is not on dataset '{Name}''s list of contributors."));
        }

        var contributor = await Contributor(nodeId);
        var refused = contributor switch
        {
            null => new ContributionRejection(ContributionReasons.UnknownContributor, $"Node {nodeId} is not registered."),
            { Status: NodeStatus.Quarantined } => new ContributionRejection(ContributionReasons.Unauthorised, $"Node {nodeId} is quarantined."),
            var node when policy.Kind == ContributorPolicyKind.MinReputation && node.Reputation.Score < (policy.MinReputation ?? 0) =>
                new ContributionRejection(ContributionReasons.Unauthorised,
                    $"Node {nodeId}'s reputation {node.Reputation.Score:0.###} is below the dataset's minimum {policy.MinReputation:0.###}."),
            _ => null,
        };
        return (contributor, refused);
    }

    /// <summary>The contributing node as its grain described it at most <see cref="ContributorCacheTime"/> ago; null when not registered.</summary>
    private async ValueTask<NodeDetails?> Contributor(string nodeId)
    {
        var now = clock.UtcNow;
        if (!_contributors.TryGetValue(nodeId, out var known) || now - known.At > ContributorCacheTime)
        {
            known = (await GrainFactory.GetGrain<INodeGrain>(nodeId).GetDetails(), now);
            _contributors[nodeId] = known;
        }

        return known.Node;
    }

    /// <summary>Appends the queued contributions, a group at a time, until none are left.</summary>
    private async Task AppendAll()
    {
        try
        {
            while (_pending.Count > 0)
            {
                var group = _pending.Take(MaxGroup).ToList();
                _pending.RemoveRange(0, group.Count);
                try
                {
                    await Append(group);
                }
                catch (Exception e)
                {
                    // Nothing of the group was acknowledged; its callers see the failure and may retry. If another
                    // activation appended meanwhile, this one's frontier is stale: start afresh from the table.
                    LogAppendFailed(e, Name, group.Count);
                    foreach (var p in group)
                    {
                        p.Done.TrySetException(e);
                    }

                    DeactivateOnIdle();
                }
            }
        }
        finally
        {
            _appending = false;
        }
    }

    private async Task Append(List<Pending> group)
    {
        var first = new Dictionary<string, Pending>(StringComparer.Ordinal);
        foreach (var p in group)
        {
            first.TryAdd(p.ContentHex, p);
        }

        // Retries usually find their record among the recent ones; any other duplicate fails the insert (unique
        // content hash), and the group is tried again with what the table says.
        var existing = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var hex in first.Keys)
        {
            if (_recent.TryGetValue(hex, out var index))
            {
                existing[hex] = index;
            }
        }

        // A near-duplicate is the same node's same sensor at the same sample time again, with other values: refused,
        // naming the reading that stands. Checked against the recent readings and the rest of the group.
        var nearDuplicates = new Dictionary<string, ContributionRejection>(StringComparer.Ordinal);
        var samples = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in first.Values.Where(p => !existing.ContainsKey(p.ContentHex)).ToList())
        {
            var standing = _recentSamples.TryGetValue(p.SampleKey, out var leaf) ? $"leaf {leaf}"
                : samples.TryGetValue(p.SampleKey, out var other) ? $"record {other}, accepted with it" : null;
            if (standing is not null)
            {
                nearDuplicates[p.ContentHex] = new ContributionRejection(ContributionReasons.NearDuplicate,
                    $"Node {p.Record.NodeId} already reported sensor '{p.Record.Sensor}' at {p.Record.SampledAt:O} with other values ({standing}).");
                first.Remove(p.ContentHex);
            }
            else
            {
                samples[p.SampleKey] = p.ContentHex;
            }
        }

        SignedTreeHead head;
        Dictionary<string, long> indexes;
        try
        {
            (head, indexes) = await Commit(first.Values, existing);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == ContentConstraint)
        {
            existing = await log!.FindExisting(Name, [.. first.Values.Select(p => p.ContentHash)]);
            (head, indexes) = await Commit(first.Values, existing);
        }

        // Records already in the log get the receipt of their first acceptance: their leaf and the head that added it.
        var earlier = new Dictionary<long, SignedTreeHead>();
        foreach (var index in existing.Values.Distinct())
        {
            earlier[index] = await log!.HeadCovering(Name, index) is { } covering ? ToView(covering) : head;
        }

        foreach (var p in group)
        {
            if (nearDuplicates.TryGetValue(p.ContentHex, out var refused))
            {
                p.Done.TrySetResult(new ContributionResult(null, refused));
                continue;
            }

            var duplicate = !ReferenceEquals(first[p.ContentHex], p) || existing.ContainsKey(p.ContentHex);
            var receipt = existing.TryGetValue(p.ContentHex, out var old)
                ? new ContributionReceipt(p.ContentHex, old, earlier[old], true)
                : new ContributionReceipt(p.ContentHex, indexes[p.ContentHex], head, duplicate);
            p.Done.TrySetResult(new ContributionResult(receipt, null));
        }
    }

    /// <summary>Appends the contributions not in <paramref name="existing"/> in one transaction, then adopts the new frontier.</summary>
    private async Task<(SignedTreeHead Head, Dictionary<string, long> Indexes)> Commit(IEnumerable<Pending> contributions, Dictionary<string, long> existing)
    {
        var frontier = _frontier.Clone();
        var rows = new List<LeafRow>();
        var added = new List<Pending>();
        var strata = new List<(MerkleNode, byte[])>();
        var now = clock.UtcNow;
        var indexes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var p in contributions.Where(p => !existing.ContainsKey(p.ContentHex)))
        {
            var c = p.Contribution;
            indexes[p.ContentHex] = frontier.Size;
            added.Add(p);
            rows.Add(new LeafRow(frontier.Size, p.ContentHash, p.LeafHash, p.Record, p.Region, c.Record, c.PublicKey, c.Signature, now));
            frontier.Append(p.LeafHash, (node, hash) =>
            {
                if (MerkleStrata.IsStored(node.Level))
                {
                    strata.Add((node, hash));
                }
            });
        }

        if (rows.Count == 0)
        {
            return (state.State.Head!, indexes);
        }

        var root = frontier.Root();
        var head = await Sign(frontier.Size, root, now);
        await log!.Append(Name, rows, strata, new HeadRow(head.Size, root, head.Timestamp, Convert.FromBase64String(head.Signature), head.KeyId));
        _frontier = frontier;
        state.State.Size = frontier.Size;
        state.State.Frontier = [.. frontier.Hashes];
        state.State.Head = head;
        foreach (var p in added)
        {
            _recent.Add(p.ContentHex, indexes[p.ContentHex]);
            _recentSamples.Add(p.SampleKey, indexes[p.ContentHex]);
        }

        // Durable records feed the quality check against the nearby contributors' latest readings, each contributor's
        // at most once per QualityCheckInterval.
        var interval = options.Value.QualityCheckInterval;
        foreach (var row in rows)
        {
            if (interval > TimeSpan.Zero && _checkedAt.TryGetValue(row.Record.NodeId, out var last) && now - last < interval)
            {
                continue;
            }

            _checkedAt[row.Record.NodeId] = now;
            var numbers = row.Record.Values.Where(v => !v.Value.IsText).ToDictionary(v => v.Key, v => v.Value.Number, StringComparer.Ordinal);
            _quality.Observe(row.Record.NodeId, row.Record.SampledAt, row.Record.Latitude, row.Record.Longitude, numbers, _floors);
        }

        metrics.ReportQuarantined(Name, _quality.QuarantinedCount);

        metrics.ReportDatasetRecords(Name, frontier.Size);
        _ = SaveQuietly();
        return (head, indexes);
    }

    private void StartRewards()
    {
        var every = economy.Value.RewardInterval;
        this.RegisterGrainTimer(Reward, new GrainTimerCreationOptions(every, every) { Interleave = true });
    }

    /// <summary>Starts a round for the leaves appended since the last one, if none is under way, and posts what it has not paid.</summary>
    private async Task Reward(CancellationToken cancellationToken)
    {
        if (_rewarding || log is null)
        {
            return;
        }

        _rewarding = true;
        try
        {
            if (state.State.Reward is null && _frontier.Size > state.State.RewardedSize)
            {
                await StartRound(_frontier.Size, cancellationToken);
            }

            await Tell();
            if (state.State.Reward is { } round)
            {
                await Pay(round);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRewardFailed(e, Name);
        }
        finally
        {
            _rewarding = false;
        }
    }

    /// <summary>
    /// Fixes a round's postings and the evidence for contributors' reputations (quality and reputation as they are
    /// now) and saves them before anything is posted or told: a crash before the save starts the round afresh, one
    /// after it finds the round saved.
    /// </summary>
    private async Task StartRound(long to, CancellationToken cancellationToken)
    {
        var from = state.State.RewardedSize;
        var contributed = new List<ContributedRecords>();
        foreach (var (nodeId, records) in await log!.ContributorsBetween(Name, from, to, cancellationToken))
        {
            var reputation = (await Contributor(nodeId))?.Reputation.Score ?? 0;
            contributed.Add(new ContributedRecords(nodeId, records, _quality.Score(nodeId), reputation));
        }

        var postings = Settlement.Rewards($"reward:{Name}:{from}-{to}", contributed, economy.Value.Rules, $"records {from} to {to - 1} of dataset {Name}");
        state.State.Reward = new RewardRound { From = from, To = to, Unpaid = [.. postings.Select(LedgerPostings.ToRequest)] };
        state.State.Untold.AddRange(contributed.Select(c => new RoundEvidence($"dataset:{Name}:{from}-{to}", c.NodeId, c.Records, c.Records * c.Quality)));
        await _save.Persist();
    }

    /// <summary>
    /// Tells each contributor's reputation about its records in a round, under the round's id; what a node did not
    /// confirm is told again at the next tick, and a node takes an id once. Saves what was told.
    /// </summary>
    private async Task Tell()
    {
        var untold = state.State.Untold;
        if (untold.Count == 0)
        {
            return;
        }

        var still = new List<RoundEvidence>();
        foreach (var evidence in untold)
        {
            try
            {
                await GrainFactory.GetGrain<INodeGrain>(evidence.NodeId).RecordEvidence(
                    evidence.Id, new ReputationEvidence(Records: evidence.Records, QualitySum: evidence.QualitySum));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogEvidenceFailed(e, Name, evidence.NodeId);
                still.Add(evidence);
            }
        }

        if (still.Count < untold.Count)
        {
            state.State.Untold = still;
            await _save.Persist();
        }
    }

    /// <summary>Posts the round's unpaid postings; the round ends when the ledger has accepted every one (now or before).</summary>
    private async Task Pay(RewardRound round)
    {
        var results = round.Unpaid.Count == 0 ? [] : await GrainFactory.GetGrain<ILedgerGrain>(0).PostMany([.. round.Unpaid]);
        var waiting = new List<PostingRequest>();
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i].Status == PostingStatus.InsufficientFunds)
            {
                waiting.Add(round.Unpaid[i]);
            }
            else if (!results[i].Accepted)
            {
                LogRewardRefused(Name, results[i].Id, results[i].Status, results[i].Detail);
            }
        }

        if (waiting.Count == round.Unpaid.Count && results.Length > 0)
        {
            return; // the treasury cannot pay yet: nothing changed
        }

        round.Unpaid = waiting;
        if (waiting.Count == 0)
        {
            state.State.RewardedSize = round.To;
            state.State.Reward = null;
        }

        await _save.Persist();
    }

    /// <summary>What makes two readings the same reading: node, sensor and sample time.</summary>
    private static string SampleKeyOf(Contribution record) =>
        string.Create(CultureInfo.InvariantCulture, $"{record.NodeId}|{record.Sensor}|{record.SampledAt.ToUnixTimeMilliseconds()}");

    private async Task SaveQuietly()
    {
        try
        {
            await _save.Persist();
        }
        catch (Exception e)
        {
            // The rows are durable; the next save or activation catches the state up.
            LogSaveFailed(e, Name);
        }
    }

    private async Task<SignedTreeHead> Sign(long size, byte[] root, DateTimeOffset at)
    {
        var timestamp = DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds());
        var signature = await signer!.Sign(TreeHead.SigningInput(Name, size, timestamp, root));
        return new SignedTreeHead(Name, size, Convert.ToHexStringLower(root), timestamp, Convert.ToBase64String(signature), await signer.KeyId());
    }

    private Task<IReadOnlyList<byte[]>> Read(int level, long from, int count, CancellationToken cancellationToken) =>
        log!.ReadHashes(Name, level, from, count, cancellationToken);

    private SignedTreeHead ToView(HeadRow head) =>
        new(Name, head.Size, Convert.ToHexStringLower(head.Root), head.SignedAt, Convert.ToBase64String(head.Signature), head.KeyId);

    private static bool IsHash(string hex) => hex.Length == 2 * MerkleHash.Size && hex.All(char.IsAsciiHexDigit);

    /// <summary>What is wrong with a definition; empty when it can be created.</summary>
    public static List<string> Problems(DatasetDefinition definition)
    {
        var problems = DatasetDefinition.Schema(definition.Fields ?? []).Problems().ToList();
        if (string.IsNullOrWhiteSpace(definition.Licence))
        {
            problems.Add("licence is required.");
        }

        if (string.IsNullOrWhiteSpace(definition.Owner))
        {
            problems.Add("owner is required.");
        }

        switch (definition.Contributors)
        {
            case null:
                problems.Add("contributors is required.");
                break;
            case { Kind: ContributorPolicyKind.AllowList, Nodes: null or { Count: 0 } }:
                problems.Add("contributors.nodes must list at least one node for an allow-list.");
                break;
            case { Kind: ContributorPolicyKind.MinReputation, MinReputation: not (>= 0 and <= 1) }:
                problems.Add("contributors.min_reputation must be between 0 and 1.");
                break;
        }

        return problems;
    }

    /// <summary>Each ranged number field's smallest spread for the quality check: 1 % of its valid range.</summary>
    private static Dictionary<string, double> Floors(IReadOnlyList<DatasetField> fields) =>
        fields.Where(f => f.Type != DatasetFieldType.Text && f.Min is not null && f.Max is not null)
            .ToDictionary(f => f.Name, f => (f.Max!.Value - f.Min!.Value) / 100, StringComparer.Ordinal);

    private static bool Same(DatasetDefinition a, DatasetDefinition b) =>
        JsonSerializer.Serialize(a) == JsonSerializer.Serialize(b);

    /// <summary>Leaf indexes by key for the latest <c>capacity</c> appends: what a retry or a repeated reading is checked against.</summary>
    private sealed class RecentLeaves(int capacity)
    {
        private readonly Dictionary<string, long> _leaves = new(StringComparer.Ordinal);
        private readonly Queue<string> _order = new();

        public bool TryGetValue(string key, out long leaf) => _leaves.TryGetValue(key, out leaf);

        public void Add(string key, long leaf)
        {
            _leaves[key] = leaf;
            _order.Enqueue(key);
            if (_order.Count > capacity)
            {
                _leaves.Remove(_order.Dequeue());
            }
        }
    }

    private sealed record Pending(Contribution Record, SignedContribution Contribution, byte[] ContentHash, string ContentHex, byte[] LeafHash, string Region, string SampleKey)
    {
        public TaskCompletionSource<ContributionResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    }

    [LoggerMessage(LogLevel.Information, "Dataset {Dataset}: replayed {Count} leaves from the records table; the log has {Size}.")]
    private partial void LogReplayed(string dataset, int count, long size);

    [LoggerMessage(LogLevel.Warning, "Dataset {Dataset}: appending {Count} contributions failed; none was acknowledged.")]
    private partial void LogAppendFailed(Exception e, string dataset, int count);

    [LoggerMessage(LogLevel.Warning, "Dataset {Dataset}: node {NodeId}'s reputation did not take its records; told again at the next tick")]
    private partial void LogEvidenceFailed(Exception e, string dataset, string nodeId);

    [LoggerMessage(LogLevel.Warning, "Dataset {Dataset}: paying contributors failed; the round is tried again at the next tick")]
    private partial void LogRewardFailed(Exception e, string dataset);

    [LoggerMessage(LogLevel.Error, "Dataset {Dataset}: the ledger refused reward posting {PostingId} ({Status}: {Detail}); it is dropped")]
    private partial void LogRewardRefused(string dataset, string postingId, PostingStatus status, string? detail);

    [LoggerMessage(LogLevel.Warning, "Dataset {Dataset}: saving the log's state failed; the records table has every leaf.")]
    private partial void LogSaveFailed(Exception e, string dataset);
}

