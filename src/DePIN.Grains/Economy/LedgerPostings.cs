using DePIN.Abstractions.Economy;
using DePIN.Core.Economy;

namespace DePIN.Grains.Economy;

/// <summary>Core's postings as the ledger grain takes them, and back.</summary>
public static class LedgerPostings
{
    public static PostingRequest ToRequest(Posting posting) =>
        new(posting.Id, posting.Kind, [.. posting.Entries.Select(e => new LedgerEntry(e.Account, e.Debit, e.Credit))], posting.Memo);

    /// <summary>A request as Core's posting; missing parts become what <see cref="PostingRules"/> refuses.</summary>
    public static Posting ToPosting(PostingRequest request) =>
        new(request.Id, request.Kind, [.. (request.Entries ?? []).Select(e => new Entry(e?.Account!, e?.Debit ?? 0, e?.Credit ?? 0))], request.Memo);

    public static PostingRequest Stake(string nodeId, string requestId, long amount) => ToRequest(Postings.Stake(nodeId, requestId, amount));

    public static PostingRequest Unstake(string nodeId, string requestId, long amount) => ToRequest(Postings.Unstake(nodeId, requestId, amount));

    public static PostingRequest Withdrawal(string account, string requestId, long amount) => ToRequest(Postings.Withdrawal(account, requestId, amount));
}
