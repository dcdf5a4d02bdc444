using DePIN.Abstractions.Streams;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DePIN.Abstractions;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using Orleans.Streams;

namespace DePIN.Client;

/// <summary>The <see cref="IDePINClient"/> over an Orleans cluster client.</summary>
public sealed class DePINClient(IClusterClient client) : IDePINClient
{
    private const int PageSize = 1000;

    /// <inheritdoc />
    public async Task<NodeDetails?> GetNodeAsync(string nodeId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeId);
        return await client.GetGrain<INodeGrain>(nodeId).GetDetails().AsTask().WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<NodeSummary> ListNodesAsync(
        NodeStatus? status = null, string? region = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var query = client.GetGrain<INodeQueryGrain>(0);
        string? after = null;
        while (true)
        {
            var page = await query.List(new NodeQuery(status, region, after, PageSize)).WaitAsync(cancellationToken);
            foreach (var node in page)
            {
                yield return node;
            }

            if (page.Length < PageSize)
            {
                yield break;
            }

            after = page[^1].NodeId;
        }
    }

    /// <inheritdoc />
    public Task<EventWatch<NodeEvent>> WatchNodeEventsAsync(string? region = null, CancellationToken cancellationToken = default) =>
        EventWatch<NodeEvent>.Subscribe(client, StreamId.Create(StreamNames.NodeEvents, StreamNames.FleetKey),
            e => region is null || e.Region == region, NodeEvent.Marker, NodeEvent.MarkerId, cancellationToken);

    /// <inheritdoc />
    public Task<SubmitResult> SubmitJobAsync(string tenant, string jobId, JobSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!TenantName.IsValid(tenant))
        {
            throw new ArgumentException($"'{tenant}' is not a tenant name.", nameof(tenant));
        }

        if (!JobSpecRules.IsJobId(jobId))
        {
            throw new ArgumentException($"'{jobId}' is not a job id.", nameof(jobId));
        }

        return Job(tenant, jobId).Submit(spec).WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<JobDetails?> GetJobAsync(string tenant, string jobId, CancellationToken cancellationToken = default) =>
        IsJob(tenant, jobId) ? await Job(tenant, jobId).Get().AsTask().WaitAsync(cancellationToken) : null;

    /// <inheritdoc />
    public async Task<JobDetails?> CancelJobAsync(string tenant, string jobId, string reason, CancellationToken cancellationToken = default) =>
        IsJob(tenant, jobId) ? await Job(tenant, jobId).Cancel(reason).WaitAsync(cancellationToken) : null;

    private static bool IsJob(string tenant, string jobId) => TenantName.IsValid(tenant) && JobSpecRules.IsJobId(jobId);

    private IJobGrain Job(string tenant, string jobId) => client.GetGrain<IJobGrain>(JobKey.For(tenant, jobId));

    /// <inheritdoc />
    public async IAsyncEnumerable<JobSummary> ListJobsAsync(
        string tenant, JobStatus? status = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? after = null;
        while (true)
        {
            var page = await TenantJobs.List(client, tenant, new JobQuery(status, after, PageSize)).WaitAsync(cancellationToken);
            foreach (var job in page)
            {
                yield return job;
            }

            if (page.Length < PageSize)
            {
                yield break;
            }

            after = page[^1].JobId;
        }
    }

    /// <inheritdoc />
    public async Task<EventWatch<JobEvent>> WatchJobAsync(string tenant, string jobId, CancellationToken cancellationToken = default)
    {
        // Subscribe first (attached), then check the job exists for this tenant, so no event after the check is missed.
        var watch = await EventWatch<JobEvent>.Subscribe(
            client, StreamId.Create(StreamNames.JobEvents, tenant), e => e.JobId == jobId, JobEvent.Marker, JobEvent.MarkerId, cancellationToken);
        if (await GetJobAsync(tenant, jobId, cancellationToken) is null)
        {
            await watch.DisposeAsync();
            throw new KeyNotFoundException($"Tenant {tenant} has no job {jobId}.");
        }

        return watch;
    }

    /// <inheritdoc />
    public async Task<DatasetInfo> CreateDatasetAsync(string name, DatasetDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(definition);
        var dataset = client.GetGrain<IDatasetGrain>(name);
        if (await dataset.Create(definition).WaitAsync(cancellationToken) is { } refused)
        {
            throw new InvalidOperationException(refused);
        }

        return (await dataset.Get().WaitAsync(cancellationToken))!;
    }

    /// <inheritdoc />
    public Task<DatasetInfo?> GetDatasetAsync(string name, CancellationToken cancellationToken = default) =>
        client.GetGrain<IDatasetGrain>(name).Get().WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<ContributionResult> ContributeAsync(string dataset, SignedContribution contribution, CancellationToken cancellationToken = default) =>
        client.GetGrain<IDatasetGrain>(dataset).Contribute(contribution).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<MerkleProofView?> ProveInclusionAsync(string dataset, long leafIndex, long treeSize, CancellationToken cancellationToken = default) =>
        client.GetGrain<IDatasetGrain>(dataset).ProveInclusion(leafIndex, treeSize).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<MerkleProofView?> ProveConsistencyAsync(string dataset, long firstSize, long secondSize, CancellationToken cancellationToken = default) =>
        client.GetGrain<IDatasetGrain>(dataset).ProveConsistency(firstSize, secondSize).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<SnapshotManifest?> TakeSnapshotAsync(string dataset, CancellationToken cancellationToken = default) =>
        client.GetGrain<IDatasetGrain>(dataset).Snapshot().WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<SnapshotManifest?> GetSnapshotAsync(string dataset, long size, CancellationToken cancellationToken = default) =>
        client.GetGrain<IDatasetGrain>(dataset).GetSnapshot(size).WaitAsync(cancellationToken);

    private ILedgerGrain Ledger => client.GetGrain<ILedgerGrain>(0);

    /// <inheritdoc />
    public Task<PostingResult> PostAsync(PostingRequest posting, CancellationToken cancellationToken = default) =>
        Ledger.Post(posting ?? throw new ArgumentNullException(nameof(posting))).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task OpenAccountsAsync(IEnumerable<string> accounts, CancellationToken cancellationToken = default) =>
        Ledger.Open([.. accounts]).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<AccountView?> GetAccountAsync(string account, CancellationToken cancellationToken = default) =>
        Ledger.GetAccount(account).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<AccountPosting> ListPostingsAsync(string account, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long after = 0;
        while (true)
        {
            var page = await Ledger.Statement(account, after, LedgerPageSize).WaitAsync(cancellationToken);
            foreach (var line in page)
            {
                yield return line;
            }

            if (page.Length < LedgerPageSize)
            {
                yield break;
            }

            after = page[^1].Sequence;
        }
    }

    private const int LedgerPageSize = 1000;

    /// <inheritdoc />
    public Task<PostingResult> StakeAsync(string nodeId, string requestId, long amount, CancellationToken cancellationToken = default) =>
        Ledger.Post(ToRequest(DePIN.Core.Economy.Postings.Stake(nodeId, requestId, amount))).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<PostingResult> UnstakeAsync(string nodeId, string requestId, long amount, CancellationToken cancellationToken = default) =>
        Ledger.Post(ToRequest(DePIN.Core.Economy.Postings.Unstake(nodeId, requestId, amount))).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<PostingResult> WithdrawAsync(string account, string requestId, long amount, CancellationToken cancellationToken = default) =>
        DePIN.Core.Economy.AccountId.NodeOf(account) is null || DePIN.Core.Economy.AccountId.KindOf(account) == DePIN.Core.Economy.AccountKind.Stake
            ? throw new ArgumentException($"'{account}' is not a node's provider or contributor account.", nameof(account))
            : Ledger.Post(ToRequest(DePIN.Core.Economy.Postings.Withdrawal(account, requestId, amount))).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<MarketRate[]> GetRatesAsync(CancellationToken cancellationToken = default) =>
        client.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key).Rates().WaitAsync(cancellationToken);

    private static PostingRequest ToRequest(DePIN.Core.Economy.Posting posting) =>
        new(posting.Id, posting.Kind, [.. posting.Entries.Select(e => new LedgerEntry(e.Account, e.Debit, e.Credit))], posting.Memo);

}

/// <summary>A live subscription to a stream of events: enumerate it to read them, dispose it to unsubscribe.</summary>
/// <typeparam name="TEvent">The event type.</typeparam>
public sealed class EventWatch<TEvent> : IAsyncEnumerable<TEvent>, IAsyncDisposable
{
    private readonly Channel<TEvent> _events;
    private readonly StreamSubscriptionHandle<TEvent> _subscription;
    private int _disposed;

    internal EventWatch(Channel<TEvent> events, StreamSubscriptionHandle<TEvent> subscription)
    {
        _events = events;
        _subscription = subscription;
    }

    /// <summary>
    /// Subscribes to one stream, passing on the events <paramref name="wanted"/> accepts; returns once the
    /// subscription is attached (<see cref="AttachedSubscription"/>), so it sees every event published after.
    /// </summary>
    internal static async Task<EventWatch<TEvent>> Subscribe(
        IClusterClient client, StreamId streamId, Func<TEvent, bool> wanted, Func<string, TEvent> marker,
        Func<TEvent, string?> markerId, CancellationToken cancellationToken)
    {
        var events = Channel.CreateUnbounded<TEvent>(new UnboundedChannelOptions { SingleReader = true });
        var stream = client.GetStreamProvider(StreamNames.Provider).GetStream<TEvent>(streamId);
        var subscription = await stream.SubscribeAttachedAsync(item =>
        {
            if (wanted(item))
            {
                events.Writer.TryWrite(item);
            }

            return Task.CompletedTask;
        }, marker, markerId, cancellationToken);
        return new EventWatch<TEvent>(events, subscription);
    }

    /// <summary>
    /// Reads events as they arrive, until the watch is disposed or the token is cancelled. The enumerator may be
    /// disposed at any time, even while a read is pending (for example after the caller gave up waiting).
    /// </summary>
    public IAsyncEnumerator<TEvent> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        new Reader(_events.Reader, cancellationToken);

    /// <summary>Unsubscribes and ends the enumeration.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _events.Writer.TryComplete();
            try
            {
                await _subscription.UnsubscribeAsync();
            }
            catch (ObjectDisposedException)
            {
                // The client was shut down first: its subscriptions went with it.
            }
        }
    }

    private sealed class Reader(ChannelReader<TEvent> reader, CancellationToken cancellationToken) : IAsyncEnumerator<TEvent>
    {
        public TEvent Current { get; private set; } = default!;

        public async ValueTask<bool> MoveNextAsync()
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                if (reader.TryRead(out var item))
                {
                    Current = item;
                    return true;
                }
            }

            return false;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
