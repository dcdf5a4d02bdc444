using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;

namespace DePIN.Client;

/// <summary>
/// The DePIN SDK for trusted back ends: read nodes and follow their status changes; submit, read, list, cancel and
/// watch jobs; create datasets, contribute to them and prove what they hold; read and post to the ledger, stake and
/// withdraw for providers, read the market's rates. Job calls name the tenant explicitly; a job of another tenant
/// behaves as one that does not exist.
/// </summary>
public interface IDePINClient
{
    /// <summary>One node with its capabilities, status and telemetry summary; null when no such node is registered.</summary>
    Task<NodeDetails?> GetNodeAsync(string nodeId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Nodes from the directory, ordered by id, optionally only those with <paramref name="status"/> and in
    /// <paramref name="region"/>. Pages through the directory as the caller enumerates.
    /// </summary>
    IAsyncEnumerable<NodeSummary> ListNodesAsync(
        NodeStatus? status = null, string? region = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Subscribes to node events (registrations and status changes), optionally of one region only. The subscription
    /// is active when the returned task completes; enumerate the result to read events, dispose it to unsubscribe.
    /// </summary>
    Task<EventWatch<NodeEvent>> WatchNodeEventsAsync(string? region = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Submits a job under an id the caller chooses. Submitting the same spec under the same id again changes nothing
    /// (<see cref="SubmitOutcome.AlreadySubmitted"/>), so retries are safe; a different spec or tenant under a taken id
    /// is a <see cref="SubmitOutcome.Conflict"/>. An invalid spec throws <see cref="InvalidJobSpecException"/>.
    /// </summary>
    Task<SubmitResult> SubmitJobAsync(string tenant, string jobId, JobSpec spec, CancellationToken cancellationToken = default);

    /// <summary>The job, or null when the tenant has no job with that id.</summary>
    Task<JobDetails?> GetJobAsync(string tenant, string jobId, CancellationToken cancellationToken = default);

    /// <summary>Cancels the job unless it already ended; null when the tenant has no job with that id.</summary>
    Task<JobDetails?> CancelJobAsync(string tenant, string jobId, string reason, CancellationToken cancellationToken = default);

    /// <summary>The tenant's jobs in id order, optionally only those in <paramref name="status"/>.</summary>
    IAsyncEnumerable<JobSummary> ListJobsAsync(string tenant, JobStatus? status = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Subscribes to a job's status changes. Throws <see cref="KeyNotFoundException"/> when the tenant has no such job.
    /// </summary>
    Task<EventWatch<JobEvent>> WatchJobAsync(string tenant, string jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a dataset; the same definition again returns it unchanged. Throws <see cref="InvalidOperationException"/>
    /// with the reason when the definition is invalid or the name is taken by a different one.
    /// </summary>
    Task<DatasetInfo> CreateDatasetAsync(string name, DatasetDefinition definition, CancellationToken cancellationToken = default);

    /// <summary>The dataset's definition and latest signed tree head; null when there is no such dataset.</summary>
    Task<DatasetInfo?> GetDatasetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends a record a node signed (see <see cref="DePIN.Abstractions.Datasets.Contributions.Parse"/>); returns its receipt once it is
    /// durable (the first receipt for a repeat), or the rejection, which changed nothing.
    /// </summary>
    Task<ContributionResult> ContributeAsync(string dataset, SignedContribution contribution, CancellationToken cancellationToken = default);

    /// <summary>Inclusion proof of a leaf in the tree of <paramref name="treeSize"/> leaves; null when out of range.</summary>
    Task<MerkleProofView?> ProveInclusionAsync(string dataset, long leafIndex, long treeSize, CancellationToken cancellationToken = default);

    /// <summary>Consistency proof between two tree sizes; null when out of range.</summary>
    Task<MerkleProofView?> ProveConsistencyAsync(string dataset, long firstSize, long secondSize, CancellationToken cancellationToken = default);

    /// <summary>Takes a snapshot at the dataset's current signed head (the same one again at the same size); null when there is no dataset.</summary>
    Task<SnapshotManifest?> TakeSnapshotAsync(string dataset, CancellationToken cancellationToken = default);

    /// <summary>The snapshot taken at <paramref name="size"/> records; null when none was.</summary>
    Task<SnapshotManifest?> GetSnapshotAsync(string dataset, long size, CancellationToken cancellationToken = default);

    /// <summary>
    /// Posts a balanced posting to the ledger; returns once it is durable or refused (see <see cref="PostingResult.Status"/>).
    /// The same posting again answers with its first receipt (<see cref="PostingStatus.Duplicate"/>), so retries are safe.
    /// </summary>
    Task<PostingResult> PostAsync(PostingRequest posting, CancellationToken cancellationToken = default);

    /// <summary>Opens accounts (idempotent); ids as <c>DePIN.Core.Economy.AccountId</c> makes them.</summary>
    Task OpenAccountsAsync(IEnumerable<string> accounts, CancellationToken cancellationToken = default);

    /// <summary>An account and its balance (microcredits); null when it was never opened.</summary>
    Task<AccountView?> GetAccountAsync(string account, CancellationToken cancellationToken = default);

    /// <summary>The postings that moved an account, oldest first, each with the balance after it. Pages as the caller enumerates.</summary>
    IAsyncEnumerable<AccountPosting> ListPostingsAsync(string account, CancellationToken cancellationToken = default);

    /// <summary>Moves <paramref name="amount"/> microcredits of a node's provider balance into its stake; <paramref name="requestId"/> makes it idempotent.</summary>
    Task<PostingResult> StakeAsync(string nodeId, string requestId, long amount, CancellationToken cancellationToken = default);

    /// <summary>Moves stake back to the node's provider balance (the HTTP route refuses it while the node holds work).</summary>
    Task<PostingResult> UnstakeAsync(string nodeId, string requestId, long amount, CancellationToken cancellationToken = default);

    /// <summary>Pays out of a node's <c>provider:</c> or <c>contributor:</c> account to the outside world.</summary>
    Task<PostingResult> WithdrawAsync(string account, string requestId, long amount, CancellationToken cancellationToken = default);

    /// <summary>The lease rates the market set, per region and resource class, in microcredits per unit-hour.</summary>
    Task<MarketRate[]> GetRatesAsync(CancellationToken cancellationToken = default);
}
