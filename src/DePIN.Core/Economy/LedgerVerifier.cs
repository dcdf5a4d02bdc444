namespace DePIN.Core.Economy;

/// <summary>What a verification found: how much history it checked, where the chain ends, and every problem (at most 100).</summary>
public sealed record LedgerReport(long Postings, long LastSequence, byte[] HeadHash, int Accounts, IReadOnlyDictionary<string, long> Supply, IReadOnlyList<string> Problems)
{
    public bool Valid => Problems.Count == 0;
}

/// <summary>
/// Checks a ledger's whole history offline, posting by posting in sequence order: the sequence has no gap, each
/// posting chains from the one before and its hash recomputes, it meets the posting rules, balances within every unit,
/// and leaves no account below zero unless the account may go there; each stored balance-after matches the replay;
/// and at the end every unit's balances sum to zero (nothing was created or destroyed) and match the stored balances.
/// </summary>
public sealed class LedgerVerifier(IReadOnlyDictionary<string, (AccountKind Kind, string Unit)> accounts)
{
    private const int MaxProblems = 100;

    private readonly Dictionary<string, long> _balances = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _problems = [];
    private LedgerHead _head = LedgerHead.Empty;
    private long _postings;

    /// <summary>The next posting in sequence order.</summary>
    public void Add(ChainedPosting stored)
    {
        _postings++;
        var p = stored.Posting;
        var at = $"posting {stored.Sequence} ('{p.Id}')";
        if (stored.Sequence != _head.Sequence + 1)
        {
            Problem($"{at}: follows {_head.Sequence}; the sequence has a gap or a repeat.");
        }

        if (!stored.PreviousHash.AsSpan().SequenceEqual(_head.Hash))
        {
            Problem($"{at}: chains from a hash that is not posting {_head.Sequence}'s.");
        }

        var hash = LedgerHash.Chain(_head.Hash, stored.Sequence, stored.PostedAt, p);
        if (!hash.AsSpan().SequenceEqual(stored.Hash))
        {
            Problem($"{at}: its hash does not recompute; its content, time or place was changed.");
        }

        if (!LedgerHash.Content(p).AsSpan().SequenceEqual(stored.ContentHash))
        {
            Problem($"{at}: its content hash does not recompute.");
        }

        if (!_ids.Add(p.Id))
        {
            Problem($"{at}: the id was posted before.");
        }

        if (PostingRules.Check(p) is { Count: > 0 } errors)
        {
            Problem($"{at}: breaks the posting rules ({string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}"))}).");
        }

        foreach (var unit in p.Entries.GroupBy(e => accounts.TryGetValue(e.Account, out var a) ? a.Unit : "?", StringComparer.Ordinal))
        {
            if (unit.Sum(e => e.Debit) != unit.Sum(e => e.Credit))
            {
                Problem($"{at}: does not balance in {unit.Key}.");
            }
        }

        for (var i = 0; i < p.Entries.Count; i++)
        {
            var e = p.Entries[i];
            if (!accounts.TryGetValue(e.Account, out var account))
            {
                Problem($"{at}: names {e.Account}, which was never opened.");
                continue;
            }

            var balance = _balances.GetValueOrDefault(e.Account) + e.Change;
            _balances[e.Account] = balance;
            if (balance < 0 && !AccountId.MayGoNegative(account.Kind))
            {
                Problem($"{at}: leaves {e.Account} at {balance}.");
            }

            if (i < stored.BalancesAfter.Length && stored.BalancesAfter[i] != balance)
            {
                Problem($"{at}: records {e.Account}'s balance as {stored.BalancesAfter[i]}, the history gives {balance}.");
            }
        }

        _head = new LedgerHead(stored.Sequence, stored.Hash);
    }

    /// <summary>The verdict; <paramref name="stored"/>, the balances the database reports now, are compared when given.</summary>
    public LedgerReport Finish(IReadOnlyDictionary<string, long>? stored = null)
    {
        var supply = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (id, balance) in _balances)
        {
            var unit = accounts.TryGetValue(id, out var a) ? a.Unit : "?";
            supply[unit] = supply.GetValueOrDefault(unit) + balance;
        }

        foreach (var (unit, total) in supply.Where(s => s.Value != 0))
        {
            Problem($"{unit}: balances sum to {total}, not 0; value was created or destroyed.");
        }

        foreach (var (id, balance) in stored ?? new Dictionary<string, long>())
        {
            if (_balances.GetValueOrDefault(id) != balance)
            {
                Problem($"{id}: the stored balance is {balance}, the history gives {_balances.GetValueOrDefault(id)}.");
            }
        }

        // Supply in circulation per unit: what the outside world has paid in, net.
        var circulating = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (id, balance) in _balances.Where(b => accounts.TryGetValue(b.Key, out var a) && a.Kind != AccountKind.External))
        {
            var unit = accounts[id].Unit;
            circulating[unit] = circulating.GetValueOrDefault(unit) + balance;
        }

        return new LedgerReport(_postings, _head.Sequence, _head.Hash, accounts.Count, circulating, [.. _problems]);
    }

    private void Problem(string problem)
    {
        if (_problems.Count < MaxProblems)
        {
            _problems.Add(problem);
        }
    }
}
