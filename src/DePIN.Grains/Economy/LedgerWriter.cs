using DePIN.Abstractions.Economy;
using DePIN.Core.Economy;
using DePIN.Grains.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DePIN.Grains.Economy;

/// <summary>
/// The silo's one writer to the ledger: group commit. Postings from every grain and request on the silo queue up while
/// a batch is being written, and the next batch carries them all (up to <see cref="MaxBatch"/>), so the ledger's cost
/// is a few transactions a second, not one per posting. Each caller's task completes once its posting is durable or
/// refused; if the batch's transaction fails, every caller in it sees the failure and nothing of it was posted (a
/// caller retries with the same id, which makes the retry safe even when the commit happened and only its answer was lost).
/// </summary>
public sealed partial class LedgerWriter(ILedgerStore store, PlatformClock clock, DePINMetrics metrics, ILogger<LedgerWriter> logger)
{
    /// <summary>Most postings one transaction carries.</summary>
    public const int MaxBatch = 4096;

    private readonly Lock _lock = new();
    private List<Queued> _queue = [];
    private bool _writing;

    public ILedgerStore Store => store;

    public Task Open(IReadOnlyCollection<string> accounts) => store.Open(accounts, clock.UtcNow);

    public async Task<PostingResult> Post(PostingRequest request) => (await PostMany([request]))[0];

    public Task<PostingResult[]> PostMany(IReadOnlyList<PostingRequest> requests)
    {
        var queued = new Queued([.. requests.Select(LedgerPostings.ToPosting)]);
        bool start;
        lock (_lock)
        {
            _queue.Add(queued);
            start = !_writing;
            _writing = true;
        }

        if (start)
        {
            _ = Task.Run(WriteAll);
        }

        return queued.Done.Task;
    }

    private async Task WriteAll()
    {
        while (true)
        {
            List<Queued> batch;
            lock (_lock)
            {
                if (_queue.Count == 0)
                {
                    _writing = false;
                    return;
                }

                // Whole requests only, so a caller's postings go in one transaction.
                var count = 0;
                var take = 0;
                while (take < _queue.Count && (take == 0 || count + _queue[take].Postings.Length <= MaxBatch))
                {
                    count += _queue[take].Postings.Length;
                    take++;
                }

                batch = _queue[..take];
                _queue = _queue[take..];
            }

            await Write(batch);
        }
    }

    private async Task Write(List<Queued> batch)
    {
        var postings = batch.SelectMany(q => q.Postings).ToList();
        IReadOnlyList<PostingDecision> decisions;
        try
        {
            decisions = await store.Append(postings, clock.UtcNow);
        }
        catch (Exception e)
        {
            LogBatchFailed(e, postings.Count);
            foreach (var q in batch)
            {
                q.Done.TrySetException(e);
            }

            return;
        }

        var next = 0;
        foreach (var q in batch)
        {
            var results = new PostingResult[q.Postings.Length];
            for (var i = 0; i < results.Length; i++, next++)
            {
                var decision = decisions[next];
                if (decision.Outcome == PostingOutcome.Posted)
                {
                    metrics.Posted(q.Postings[i].Kind);
                }

                results[i] = ToResult(q.Postings[i].Id, decision);
            }

            q.Done.TrySetResult(results);
        }
    }

    public static PostingResult ToResult(string id, PostingDecision decision) => new(
        id,
        decision.Outcome switch
        {
            PostingOutcome.Posted => PostingStatus.Posted,
            PostingOutcome.Duplicate => PostingStatus.Duplicate,
            PostingOutcome.Conflict => PostingStatus.Conflict,
            PostingOutcome.UnknownAccount => PostingStatus.UnknownAccount,
            PostingOutcome.Unbalanced => PostingStatus.Unbalanced,
            PostingOutcome.InsufficientFunds => PostingStatus.InsufficientFunds,
            _ => PostingStatus.Invalid,
        },
        decision.Receipt?.Sequence,
        decision.Receipt is { } r ? Convert.ToHexStringLower(r.Hash) : null,
        decision.Receipt?.PostedAt,
        decision.Detail);

    private sealed record Queued(Posting[] Postings)
    {
        public TaskCompletionSource<PostingResult[]> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(LogLevel.Warning, "Writing {Count} ledger postings failed; none of them was posted, and their callers were told")]
    private partial void LogBatchFailed(Exception e, int count);
}
