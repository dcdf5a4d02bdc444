namespace DePIN.Core.Economy;

/// <summary>
/// One line of a posting: an amount in the account's unit (microcredits) taken from the account (<paramref name="Debit"/>)
/// or paid into it (<paramref name="Credit"/>). Exactly one of the two is positive.
/// </summary>
public readonly record struct Entry(string Account, long Debit, long Credit)
{
    public static Entry From(string account, long amount) => new(account, amount, 0);

    public static Entry To(string account, long amount) => new(account, 0, amount);

    /// <summary>The change to the holder's balance: credits add, debits take away.</summary>
    public long Change => Credit - Debit;
}

/// <summary>
/// A balanced set of entries, posted whole or not at all. <paramref name="Id"/> makes it idempotent: the same posting
/// sent again is answered with its first receipt, and a different posting under a used id is refused.
/// </summary>
public sealed record Posting(string Id, string Kind, IReadOnlyList<Entry> Entries, string? Memo = null)
{
    /// <summary>The entries in canonical order (by account), as hashed and stored.</summary>
    public Entry[] Canonical() => [.. Entries.OrderBy(e => e.Account, StringComparer.Ordinal)];
}

/// <summary>What a posting is for: the <c>kind</c> label of <c>depin_ledger_postings_total</c>, a closed set.</summary>
public static class PostingKinds
{
    /// <summary>Funds coming in from outside (an operator records a payment received).</summary>
    public const string Deposit = "deposit";

    /// <summary>A provider takes earnings out.</summary>
    public const string Withdrawal = "withdrawal";

    /// <summary>A tenant's funds committed to a job at submission.</summary>
    public const string Escrow = "escrow";

    /// <summary>An attempt's verified replica-hours paid from escrow to providers (with the platform fee and bonuses).</summary>
    public const string Lease = "lease";

    /// <summary>The treasury's availability bonus to providers that delivered what the predictor forecast.</summary>
    public const string Bonus = "bonus";

    /// <summary>A job's unused escrow back to its tenant.</summary>
    public const string Refund = "refund";

    /// <summary>Contributors paid for accepted dataset records.</summary>
    public const string Reward = "reward";

    /// <summary>A node's stake forfeited: to the harmed tenant and the slashing pool.</summary>
    public const string Slash = "slash";

    /// <summary>A provider locks funds as stake.</summary>
    public const string Stake = "stake";

    /// <summary>A provider's stake back to its balance.</summary>
    public const string Unstake = "unstake";

    /// <summary>An operator's correction.</summary>
    public const string Adjustment = "adjustment";

    public static IReadOnlyList<string> All { get; } =
        [Deposit, Withdrawal, Escrow, Lease, Bonus, Refund, Reward, Slash, Stake, Unstake, Adjustment];

    public static bool IsKnown(string kind) => All.Contains(kind, StringComparer.Ordinal);
}

/// <summary>The shape rules every posting must meet before it reaches the ledger; balances are the ledger's to check.</summary>
public static class PostingRules
{
    /// <summary>Largest amount one entry may carry: 2^53 − 1, exact in every JSON reader.</summary>
    public const long MaxAmount = (1L << 53) - 1;

    public const int MaxEntries = 64;
    public const int MaxIdLength = 200;
    public const int MaxMemoLength = 256;

    /// <summary>Posting ids: 1 to 200 letters, digits and '-', '_', '.', ':', '/'.</summary>
    public static bool IsPostingId(string? id) =>
        id is { Length: > 0 and <= MaxIdLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/');

    /// <summary>What is wrong with the posting, by field (<c>id</c>, <c>kind</c>, <c>entries[2].debit</c>, ...); empty when nothing is.</summary>
    public static Dictionary<string, string[]> Check(Posting posting)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string problem)
        {
            if (!errors.TryGetValue(field, out var list))
            {
                errors[field] = list = [];
            }

            list.Add(problem);
        }

        if (!IsPostingId(posting.Id))
        {
            Add("id", $"must be 1 to {MaxIdLength} letters, digits, '-', '_', '.', ':' or '/'");
        }

        if (posting.Kind is null || !PostingKinds.IsKnown(posting.Kind))
        {
            Add("kind", $"must be one of {string.Join(", ", PostingKinds.All)}");
        }

        if (posting.Memo is { Length: > MaxMemoLength })
        {
            Add("memo", $"must be at most {MaxMemoLength} characters");
        }

        var entries = posting.Entries ?? [];
        if (entries.Count is < 2 or > MaxEntries)
        {
            Add("entries", $"must hold 2 to {MaxEntries} entries");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        long debits = 0, credits = 0;
        var overflow = false;
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.Account is null || AccountId.KindOf(e.Account) is null)
            {
                Add($"entries[{i}].account", "is not an account id");
            }
            else if (!seen.Add(e.Account))
            {
                Add($"entries[{i}].account", "appears twice; one entry per account");
            }

            if (e.Debit < 0 || e.Credit < 0)
            {
                Add($"entries[{i}]", "amounts must not be negative");
            }
            else if ((e.Debit > 0) == (e.Credit > 0))
            {
                Add($"entries[{i}]", "exactly one of debit and credit must be positive");
            }
            else if (e.Debit > MaxAmount || e.Credit > MaxAmount)
            {
                Add($"entries[{i}]", $"an amount must be at most {MaxAmount}");
            }
            else
            {
                try
                {
                    debits = checked(debits + e.Debit);
                    credits = checked(credits + e.Credit);
                }
                catch (OverflowException)
                {
                    overflow = true;
                }
            }
        }

        if (overflow)
        {
            Add("entries", "the amounts overflow a 64-bit total");
        }
        else if (errors.Keys.All(k => !k.StartsWith("entries[", StringComparison.Ordinal)) && debits != credits)
        {
            Add("entries", $"debits ({debits}) must equal credits ({credits})");
        }

        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }
}
