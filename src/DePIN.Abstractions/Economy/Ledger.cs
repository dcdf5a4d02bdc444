using DePIN.Core.Economy;

namespace DePIN.Abstractions.Economy;

/// <summary>One line of a posting: an amount in microcredits taken from (<paramref name="Debit"/>) or paid into (<paramref name="Credit"/>) an account.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.LedgerEntry")]
public sealed record LedgerEntry(
    [property: Id(0)] string Account,
    [property: Id(1)] long Debit = 0,
    [property: Id(2)] long Credit = 0);

/// <summary>
/// A balanced posting as a client sends it. <paramref name="Id"/> is the client's (or derived from what the posting
/// is for): the same posting again is answered with its first receipt, a different one under the id is refused.
/// </summary>
[GenerateSerializer, Immutable, Alias("DePIN.PostingRequest")]
public sealed record PostingRequest(
    [property: Id(0)] string Id,
    [property: Id(1)] string Kind,
    [property: Id(2)] LedgerEntry[] Entries,
    [property: Id(3)] string? Memo = null);

/// <summary>How the ledger answered a posting: <c>DePIN.Core.Economy.PostingOutcome</c> on the wire.</summary>
[GenerateSerializer, Alias("DePIN.PostingStatus")]
public enum PostingStatus { Posted, Duplicate, Conflict, Invalid, UnknownAccount, Unbalanced, InsufficientFunds }

/// <summary>The ledger's answer: for a posted or duplicate posting, its receipt (place in the chain, hash, time).</summary>
[GenerateSerializer, Immutable, Alias("DePIN.PostingResult")]
public sealed record PostingResult(
    [property: Id(0)] string Id,
    [property: Id(1)] PostingStatus Status,
    [property: Id(2)] long? Sequence = null,
    [property: Id(3)] string? Hash = null,
    [property: Id(4)] DateTimeOffset? PostedAt = null,
    [property: Id(5)] string? Detail = null)
{
    /// <summary>Posted now or before: the posting is in the ledger.</summary>
    public bool Accepted => Status is PostingStatus.Posted or PostingStatus.Duplicate;
}

/// <summary>An account and its balance now.</summary>
/// <param name="Kind">external, treasury, slashingpool, tenant, escrow, provider, stake or contributor.</param>
/// <param name="Unit">The currency unit of its amounts: <c>ucr</c>, microcredits.</param>
/// <param name="LastSequence">The last posting that moved it; null when none has.</param>
[GenerateSerializer, Immutable, Alias("DePIN.AccountView")]
public sealed record AccountView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Unit,
    [property: Id(3)] long Balance,
    [property: Id(4)] DateTimeOffset OpenedAt,
    [property: Id(5)] long? LastSequence);

/// <summary>One line of an account's statement: a posting that moved it, and its balance after.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.AccountPosting")]
public sealed record AccountPosting(
    [property: Id(0)] long Sequence,
    [property: Id(1)] string PostingId,
    [property: Id(2)] string Kind,
    [property: Id(3)] DateTimeOffset PostedAt,
    [property: Id(4)] long Debit,
    [property: Id(5)] long Credit,
    [property: Id(6)] long Balance,
    [property: Id(7)] string? Memo);

/// <summary>One entry of a posting in the chain: the account's movement and its balance after it.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.ChainEntry")]
public sealed record ChainEntry(
    [property: Id(0)] string Account,
    [property: Id(1)] long Debit,
    [property: Id(2)] long Credit,
    [property: Id(3)] long Balance);

/// <summary>
/// A posting in its place in the hash chain, as an operator exports the ledger to verify it offline: the content,
/// the time it was posted, its content hash, the hash it chains from and its own (hex). Entries in account order.
/// </summary>
[GenerateSerializer, Immutable, Alias("DePIN.ChainedPostingView")]
public sealed record ChainedPostingView(
    [property: Id(0)] long Sequence,
    [property: Id(1)] string Id,
    [property: Id(2)] string Kind,
    [property: Id(3)] string? Memo,
    [property: Id(4)] DateTimeOffset PostedAt,
    [property: Id(5)] ChainEntry[] Entries,
    [property: Id(6)] string ContentHash,
    [property: Id(7)] string PreviousHash,
    [property: Id(8)] string Hash)
{
    public static ChainedPostingView From(ChainedPosting stored)
    {
        var entries = stored.Posting.Entries;
        return new(stored.Sequence, stored.Posting.Id, stored.Posting.Kind, stored.Posting.Memo, stored.PostedAt,
            [.. entries.Select((e, i) => new ChainEntry(e.Account, e.Debit, e.Credit, i < stored.BalancesAfter.Length ? stored.BalancesAfter[i] : 0))],
            Convert.ToHexStringLower(stored.ContentHash), Convert.ToHexStringLower(stored.PreviousHash), Convert.ToHexStringLower(stored.Hash));
    }

    /// <summary>Back to what <see cref="LedgerVerifier"/> checks; hashes that are not hex become empty, which fails the check.</summary>
    public ChainedPosting ToChained()
    {
        var entries = Entries ?? [];
        return new(Sequence, new Posting(Id, Kind, [.. entries.Select(e => new Entry(e.Account, e.Debit, e.Credit))], Memo), PostedAt,
            Bytes(ContentHash), Bytes(PreviousHash), Bytes(Hash), [.. entries.Select(e => e.Balance)]);
    }

    private static byte[] Bytes(string? hex)
    {
        try
        {
            return Convert.FromHexString(hex ?? "");
        }
        catch (FormatException)
        {
            return [];
        }
    }
}

/// <summary>The end of the ledger's hash chain: the last posting's sequence and hash.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.LedgerHeadView")]
public sealed record LedgerHeadView([property: Id(0)] long Sequence, [property: Id(1)] string Hash);

/// <summary>
/// The ledger, as the SDK and the platform's grains reach it: a stateless worker on every silo that hands postings to
/// its silo's writer, which appends them in batches, one transaction each, to the chain in PostgreSQL.
/// </summary>
[Alias("DePIN.ILedgerGrain")]
public interface ILedgerGrain : IGrainWithIntegerKey
{
    /// <summary>Opens accounts (idempotent): only open accounts may be named in postings. Ids as <c>DePIN.Core.Economy.AccountId</c> makes them.</summary>
    [Alias("Open")]
    Task Open(string[] accounts);

    /// <summary>Posts one posting; completes once it is durable (or refused).</summary>
    [Alias("Post")]
    Task<PostingResult> Post(PostingRequest posting);

    /// <summary>Posts several, in order, each decided on its own; completes once all are durable (or refused).</summary>
    [Alias("PostMany")]
    Task<PostingResult[]> PostMany(PostingRequest[] postings);

    /// <summary>The account, or null when it was never opened.</summary>
    [Alias("GetAccount")]
    Task<AccountView?> GetAccount(string account);

    /// <summary>The postings that moved the account after sequence <paramref name="after"/>, oldest first, at most <paramref name="limit"/>.</summary>
    [Alias("Statement")]
    Task<AccountPosting[]> Statement(string account, long after, int limit);

    /// <summary>The end of the chain now.</summary>
    [Alias("Head")]
    Task<LedgerHeadView> Head();

    /// <summary>The chain after sequence <paramref name="after"/>, at most <paramref name="limit"/> postings: what an offline verification reads.</summary>
    [Alias("Chain")]
    Task<ChainedPostingView[]> Chain(long after, int limit);
}

/// <summary>
/// Body of <c>POST /v1/nodes/{id}/stake</c> and <c>/unstake</c>, signed with the node's key: move <paramref name="Amount"/>
/// microcredits from the node's provider balance into its stake, or back. <paramref name="Id"/> is the posting id.
/// </summary>
public sealed record StakeRequest(string NodeId, string Id, long Amount, DateTimeOffset Timestamp);

/// <summary>
/// Body of <c>POST /v1/nodes/{id}/withdrawals</c>, signed with the node's key: pay <paramref name="Amount"/> out of the
/// node's <c>provider:</c> or <c>contributor:</c> <paramref name="Account"/> to the outside world.
/// </summary>
public sealed record WithdrawalRequest(string NodeId, string Id, string Account, long Amount, DateTimeOffset Timestamp);

/// <summary>A lease rate: microcredits per unit-hour (a GPU-hour for class gpu, a core-hour for class cpu) in a region.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.MarketRate")]
public sealed record MarketRate([property: Id(0)] string Region, [property: Id(1)] string Class, [property: Id(2)] long Rate);
