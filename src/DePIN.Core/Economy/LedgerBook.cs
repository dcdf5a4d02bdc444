namespace DePIN.Core.Economy;

/// <summary>An open account as the ledger sees it when deciding: its kind, unit and balance now.</summary>
public sealed record LedgerAccount(string Id, AccountKind Kind, string Unit, long Balance);

/// <summary>The end of the chain: the last posting's sequence and hash (0 and <see cref="LedgerHash.Genesis"/> when empty).</summary>
public sealed record LedgerHead(long Sequence, byte[] Hash)
{
    public static LedgerHead Empty => new(0, LedgerHash.Genesis);
}

/// <summary>A posting in its place in the chain, entries in account order, with each entry's account balance after it.</summary>
public sealed record ChainedPosting(
    long Sequence, Posting Posting, DateTimeOffset PostedAt, byte[] ContentHash, byte[] PreviousHash, byte[] Hash, long[] BalancesAfter);

/// <summary>What the ledger knows of a posting id already taken: enough to answer a replay with the first receipt.</summary>
public sealed record PostedReceipt(string Id, long Sequence, byte[] ContentHash, byte[] Hash, DateTimeOffset PostedAt);

public enum PostingOutcome
{
    /// <summary>Appended now.</summary>
    Posted,

    /// <summary>The same posting was appended before: nothing changed, here is its first receipt.</summary>
    Duplicate,

    /// <summary>A different posting holds this id: refused.</summary>
    Conflict,

    /// <summary>The shape is wrong (<see cref="PostingRules"/>), or an amount would overflow a balance.</summary>
    Invalid,

    /// <summary>An entry names an account that was never opened.</summary>
    UnknownAccount,

    /// <summary>Debits and credits differ within one currency unit.</summary>
    Unbalanced,

    /// <summary>An account that may not go negative would.</summary>
    InsufficientFunds,
}

/// <summary>How one posting was decided; <paramref name="Receipt"/> for posted ones and duplicates.</summary>
public sealed record PostingDecision(PostingOutcome Outcome, PostedReceipt? Receipt, string? Detail = null)
{
    public bool Accepted => Outcome is PostingOutcome.Posted or PostingOutcome.Duplicate;
}

/// <summary>
/// Decides a batch of postings in order against the balances and the head, as one writer holding the ledger does:
/// each posting is refused whole or appended whole, and a later one sees the balances the earlier ones left. Pure:
/// the caller supplies the accounts the batch touches (balances are updated in place) and the receipts of the ids
/// it already holds, and writes what comes back in one transaction.
/// </summary>
public static class LedgerBook
{
    public sealed record BatchResult(IReadOnlyList<PostingDecision> Decisions, IReadOnlyList<ChainedPosting> Appended, LedgerHead Head);

    /// <param name="accounts">Every account the batch names that is open; balances are changed in place.</param>
    /// <param name="taken">Receipts of ids already posted; the batch's own postings are added as it goes.</param>
    public static BatchResult Decide(
        LedgerHead head, IDictionary<string, LedgerAccount> accounts, IDictionary<string, PostedReceipt> taken,
        IReadOnlyList<Posting> batch, DateTimeOffset now)
    {
        var postedAt = LedgerHash.Truncate(now);
        var decisions = new PostingDecision[batch.Count];
        var appended = new List<ChainedPosting>();
        for (var i = 0; i < batch.Count; i++)
        {
            var posting = batch[i];
            if (PostingRules.Check(posting) is { Count: > 0 } errors)
            {
                decisions[i] = new PostingDecision(PostingOutcome.Invalid, null,
                    string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}")));
                continue;
            }

            var content = LedgerHash.Content(posting);
            if (taken.TryGetValue(posting.Id, out var earlier))
            {
                decisions[i] = earlier.ContentHash.AsSpan().SequenceEqual(content)
                    ? new PostingDecision(PostingOutcome.Duplicate, earlier)
                    : new PostingDecision(PostingOutcome.Conflict, null, $"Posting '{posting.Id}' exists with other content.");
                continue;
            }

            var canonical = posting with { Entries = posting.Canonical() };
            var refusal = Refusal(canonical, accounts, out var after);
            if (refusal is not null)
            {
                decisions[i] = refusal;
                continue;
            }

            var sequence = head.Sequence + 1;
            var hash = LedgerHash.Chain(head.Hash, sequence, postedAt, canonical);
            for (var e = 0; e < canonical.Entries.Count; e++)
            {
                var account = accounts[canonical.Entries[e].Account];
                accounts[account.Id] = account with { Balance = after[e] };
            }

            appended.Add(new ChainedPosting(sequence, canonical, postedAt, content, head.Hash, hash, after));
            var receipt = new PostedReceipt(posting.Id, sequence, content, hash, postedAt);
            taken[posting.Id] = receipt;
            decisions[i] = new PostingDecision(PostingOutcome.Posted, receipt);
            head = new LedgerHead(sequence, hash);
        }

        return new BatchResult(decisions, appended, head);
    }

    /// <summary>Why the posting cannot go on these balances; null, with each entry's balance after it, when it can.</summary>
    private static PostingDecision? Refusal(Posting posting, IDictionary<string, LedgerAccount> accounts, out long[] after)
    {
        var entries = posting.Entries;
        after = new long[entries.Count];
        var unknown = entries.Where(e => !accounts.ContainsKey(e.Account)).Select(e => e.Account).ToList();
        if (unknown.Count > 0)
        {
            return new PostingDecision(PostingOutcome.UnknownAccount, null, $"No such account: {string.Join(", ", unknown)}.");
        }

        foreach (var unit in entries.GroupBy(e => accounts[e.Account].Unit, StringComparer.Ordinal))
        {
            var debits = unit.Sum(e => e.Debit);
            var credits = unit.Sum(e => e.Credit);
            if (debits != credits)
            {
                return new PostingDecision(PostingOutcome.Unbalanced, null, $"In {unit.Key}, debits ({debits}) differ from credits ({credits}).");
            }
        }

        for (var e = 0; e < entries.Count; e++)
        {
            var account = accounts[entries[e].Account];
            long balance;
            try
            {
                balance = checked(account.Balance + entries[e].Change);
            }
            catch (OverflowException)
            {
                return new PostingDecision(PostingOutcome.Invalid, null, $"The balance of {account.Id} would overflow.");
            }

            if (balance < 0 && !AccountId.MayGoNegative(account.Kind))
            {
                return new PostingDecision(PostingOutcome.InsufficientFunds, null,
                    $"{account.Id} holds {account.Balance} {account.Unit}; the posting takes {entries[e].Debit}.");
            }

            after[e] = balance;
        }

        return null;
    }
}
