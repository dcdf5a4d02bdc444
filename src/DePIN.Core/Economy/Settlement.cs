namespace DePIN.Core.Economy;

/// <summary>The economy's terms, the same for every job (configuration section <c>Economy</c>).</summary>
/// <param name="FeeShare">The platform's share of every lease payment, to the treasury.</param>
/// <param name="BonusShare">Availability bonus, from the treasury: this share of a node's lease payment, times the
/// probability the predictor gave the node of staying up, times its reputation; paid when it delivered.</param>
/// <param name="RewardPerRecord">Microcredits for one accepted dataset record at quality 1 from a node of reputation 1.</param>
/// <param name="SlashAmount">What one offence takes from a node's stake (all of it when the stake is smaller).</param>
/// <param name="HarmedShare">Of a slash, the share that goes to the tenant the offence harmed; the rest to the slashing pool.</param>
/// <param name="AcceptableLoss">Risk-priced verification adds copies until a wrong result's expected cost is at most this (microcredits).</param>
public sealed record EconomyRules(
    double FeeShare = 0.10,
    double BonusShare = 0.05,
    long RewardPerRecord = 1_000,
    long SlashAmount = 10 * AccountId.PerCredit,
    double HarmedShare = 0.5,
    long AcceptableLoss = AccountId.PerCredit)
{
    public static EconomyRules Default { get; } = new();
}

/// <summary>How one replica slot of an attempt ended, for paying it.</summary>
public enum SlotOutcome
{
    /// <summary>Its work was verified (its result agreed with the majority, or its checkpoint was the shard's): paid its hours.</summary>
    Verified,

    /// <summary>It ran, but nothing of it was verified (failed, or stopped before a checkpoint it agreed on): not paid.</summary>
    Unverified,

    /// <summary>Its result disagreed with the majority: not paid, and slashed.</summary>
    Disagreed,

    /// <summary>Its node vanished mid-lease without a drain notice: not paid, and slashed.</summary>
    Abandoned,
}

/// <summary>A contributor's accepted records in one reward round, with its quality score and reputation then (0 to 1).</summary>
public sealed record ContributedRecords(string NodeId, long Records, double Quality, double Reputation);

/// <summary>One slot's lease as the job settles it.</summary>
/// <param name="RatePerHour">Microcredits per replica-hour, fixed at placement from the node's region and class rate.</param>
/// <param name="Forecast">The probability the scheduler's predictor gave the node of staying up for the job.</param>
/// <param name="Reputation">The node's reputation, 0 to 1, when it is settled.</param>
/// <param name="Hours">Verified replica-hours (those it is paid for).</param>
public sealed record SlotLease(string NodeId, long RatePerHour, double Forecast, double Reputation, double Hours, SlotOutcome Outcome);

/// <summary>
/// The money of a job, in postings whose ids derive from the job and attempt, so settling again after a crash pays
/// nothing twice: escrow at submission, each attempt's lease (escrow to providers, the fee to the treasury), the
/// availability bonus (treasury to providers), slashes (stake to the harmed tenant and the slashing pool), and the
/// refund of what is left when the job ends. Amounts round down, so nobody is ever paid more than the terms say.
/// </summary>
public static class Settlement
{
    /// <summary>What a tenant commits for one attempt: its price cap × the slots × the estimated hours, rounded up.</summary>
    public static long Budget(long maxPricePerReplicaHour, int slots, double estimatedSeconds) =>
        (long)Math.Min(PostingRules.MaxAmount, Math.Ceiling((decimal)maxPricePerReplicaHour * slots * (decimal)estimatedSeconds / 3600m));

    public static Posting Escrow(string id, string tenant, string escrowAccount, long amount) =>
        new(id, PostingKinds.Escrow, [Entry.From(AccountId.Tenant(tenant), amount), Entry.To(escrowAccount, amount)]);

    /// <summary>What is left in escrow back to the tenant; null when nothing is.</summary>
    public static Posting? Refund(string id, string tenant, string escrowAccount, long left) =>
        left <= 0 ? null : new(id, PostingKinds.Refund, [Entry.From(escrowAccount, left), Entry.To(AccountId.Tenant(tenant), left)]);

    /// <summary>Each node's gross lease payment for the attempt: its verified hours at its rate, scaled down to the escrow if it holds less.</summary>
    public static Dictionary<string, long> Gross(IReadOnlyList<SlotLease> slots, long escrow)
    {
        var due = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var slot in slots.Where(s => s.Outcome == SlotOutcome.Verified && s.Hours > 0))
        {
            due[slot.NodeId] = due.GetValueOrDefault(slot.NodeId) + (long)Math.Floor(slot.RatePerHour * slot.Hours);
        }

        var total = due.Values.Sum();
        if (total > escrow)
        {
            foreach (var node in due.Keys.ToList())
            {
                due[node] = (long)Math.Floor((decimal)due[node] * Math.Max(0, escrow) / total);
            }
        }

        return due.Where(d => d.Value > 0).ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal);
    }

    /// <summary>The attempt's lease: escrow pays each node its gross less the fee, and the fee to the treasury. Null when nothing is due.</summary>
    public static Posting? Lease(string id, string escrowAccount, IReadOnlyDictionary<string, long> gross, EconomyRules rules)
    {
        if (gross.Count == 0)
        {
            return null;
        }

        var entries = new List<Entry> { Entry.From(escrowAccount, gross.Values.Sum()) };
        long fees = 0;
        foreach (var (node, amount) in gross.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var fee = (long)Math.Floor(amount * rules.FeeShare);
            fees += fee;
            if (amount - fee > 0)
            {
                entries.Add(Entry.To(AccountId.Provider(node), amount - fee));
            }
        }

        if (fees > 0)
        {
            entries.Add(Entry.To(AccountId.Treasury, fees));
        }

        return entries.Count < 2 ? null : new(id, PostingKinds.Lease, entries);
    }

    /// <summary>
    /// The availability bonus: a node that delivered the availability forecast for it earns, from the treasury, the
    /// bonus share of its gross, times the forecast and its reputation; all scaled down to what the treasury holds.
    /// </summary>
    public static Posting? Bonus(string id, IReadOnlyList<SlotLease> slots, IReadOnlyDictionary<string, long> gross, long treasury, EconomyRules rules)
    {
        var bonus = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (node, amount) in gross)
        {
            var mine = slots.Where(s => s.NodeId == node && s.Outcome == SlotOutcome.Verified).ToList();
            var forecast = mine.Average(s => Math.Clamp(s.Forecast, 0, 1));
            var reputation = mine.Max(s => Math.Clamp(s.Reputation, 0, 1));
            bonus[node] = (long)Math.Floor(amount * rules.BonusShare * forecast * reputation);
        }

        return Pay(id, PostingKinds.Bonus, AccountId.Treasury, bonus, treasury, AccountId.Provider, "availability bonus");
    }

    /// <summary>
    /// Contributors' rewards for accepted records: per record, the reward times its contributor's quality score and
    /// reputation, from the treasury; in postings of at most <see cref="PostingRules.MaxEntries"/> − 1 contributors
    /// each (ids <c>{id}:0</c>, <c>{id}:1</c>, ...; contributors in id order). Never scaled down: a posting the treasury
    /// cannot cover is refused whole and waits until it can, so every contributor is paid in full exactly once.
    /// </summary>
    public static List<Posting> Rewards(string id, IReadOnlyList<ContributedRecords> records, EconomyRules rules, string? memo = null)
    {
        var earned = records
            .GroupBy(r => r.NodeId, StringComparer.Ordinal)
            .Select(g => (Node: g.Key, Amount: g.Sum(r => (long)Math.Floor(rules.RewardPerRecord * r.Records * Math.Clamp(r.Quality, 0, 1) * Math.Clamp(r.Reputation, 0, 1)))))
            .Where(e => e.Amount > 0)
            .OrderBy(e => e.Node, StringComparer.Ordinal)
            .ToList();
        return [.. earned.Chunk(PostingRules.MaxEntries - 1).Select((part, i) => new Posting($"{id}:{i}", PostingKinds.Reward,
            [Entry.From(AccountId.Treasury, part.Sum(p => p.Amount)), .. part.Select(p => Entry.To(AccountId.Contributor(p.Node), p.Amount))], memo))];
    }

    /// <summary>
    /// A slash: the offence's amount (or all of a smaller stake) leaves the node's stake; the harmed tenant's share goes
    /// to it, the rest to the slashing pool. Null when the node has no stake.
    /// </summary>
    public static Posting? Slash(string id, string nodeId, long stake, string? harmedTenant, EconomyRules rules, string reason)
    {
        var amount = Math.Min(stake, rules.SlashAmount);
        if (amount <= 0)
        {
            return null;
        }

        var harmed = harmedTenant is null ? 0 : (long)Math.Floor(amount * rules.HarmedShare);
        var entries = new List<Entry> { Entry.From(AccountId.Stake(nodeId), amount) };
        if (harmed > 0)
        {
            entries.Add(Entry.To(AccountId.Tenant(harmedTenant!), harmed));
        }

        if (amount - harmed > 0)
        {
            entries.Add(Entry.To(AccountId.SlashingPool, amount - harmed));
        }

        return new(id, PostingKinds.Slash, entries, reason);
    }

    /// <summary>
    /// Payments out of one account to several, scaled down to what it holds, at most <see cref="PostingRules.MaxEntries"/>
    /// − 1 payees (the largest; the rest earn nothing this time). Null when nothing is paid.
    /// </summary>
    private static Posting? Pay(string id, string kind, string from, Dictionary<string, long> owed, long available, Func<string, string> account, string? memo)
    {
        var payees = owed.Where(o => o.Value > 0).OrderByDescending(o => o.Value).ThenBy(o => o.Key, StringComparer.Ordinal)
            .Take(PostingRules.MaxEntries - 1).ToList();
        var total = payees.Sum(p => p.Value);
        if (total == 0 || available <= 0)
        {
            return null;
        }

        var scale = total > available ? (decimal)available / total : 1m;
        var entries = payees.Select(p => Entry.To(account(p.Key), (long)Math.Floor(p.Value * scale))).Where(e => e.Credit > 0).ToList();
        var paid = entries.Sum(e => e.Credit);
        return paid == 0 ? null : new(id, kind, [Entry.From(from, paid), .. entries], memo);
    }
}
