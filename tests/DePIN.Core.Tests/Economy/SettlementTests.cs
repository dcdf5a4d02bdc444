using DePIN.Core.Economy;
using DePIN.Core.Work;

namespace DePIN.Core.Tests.Economy;

public sealed class SettlementTests
{
    private static readonly EconomyRules Rules = EconomyRules.Default;

    private static long Sum(Posting p) => p.Entries.Sum(e => e.Credit) - p.Entries.Sum(e => e.Debit);

    [Fact]
    public void Escrow_covers_every_slot_at_the_price_cap_for_the_estimated_time_rounded_up()
    {
        Assert.Equal(750_000, Settlement.Budget(1_500_000, 3, 600));
        Assert.Equal(1, Settlement.Budget(1, 1, 1)); // a fraction of a microcredit is still owed
        Assert.Equal(0, Settlement.Budget(0, 8, 7200));
    }

    [Fact]
    public void A_lease_pays_verified_hours_less_the_fee_and_never_more_than_the_escrow_holds()
    {
        SlotLease[] slots =
        [
            new("a", 1_000_000, 0.9, 0.9, 2, SlotOutcome.Verified),
            new("a", 1_000_000, 0.9, 0.9, 1, SlotOutcome.Verified), // the same node's second slot: one entry
            new("b", 500_000, 0.5, 0.5, 2, SlotOutcome.Verified),
            new("c", 1_000_000, 1, 1, 5, SlotOutcome.Disagreed),
            new("d", 1_000_000, 1, 1, 5, SlotOutcome.Unverified),
        ];

        var gross = Settlement.Gross(slots, escrow: 10_000_000);
        var lease = Settlement.Lease("lease:x:1", "escrow:t:x", gross, Rules)!;
        var capped = Settlement.Gross(slots, escrow: 2_000_000);

        Assert.Equal(new Dictionary<string, long> { ["a"] = 3_000_000, ["b"] = 1_000_000 }, gross);
        Assert.Equal(0, Sum(lease));
        Assert.Equal(
            [("escrow:t:x", 4_000_000L, 0L), ("provider:a", 0, 2_700_000), ("provider:b", 0, 900_000), ("treasury", 0, 400_000)],
            lease.Canonical().Select(e => (e.Account, e.Debit, e.Credit)));
        Assert.Equal(new Dictionary<string, long> { ["a"] = 1_500_000, ["b"] = 500_000 }, capped);
        Assert.Null(Settlement.Lease("lease:x:2", "escrow:t:x", Settlement.Gross([slots[3]], 1_000_000), Rules));
    }

    [Fact]
    public void The_bonus_follows_forecast_and_reputation_and_stops_at_what_the_treasury_holds()
    {
        SlotLease[] slots = [new("a", 1_000_000, 1, 1, 1, SlotOutcome.Verified), new("b", 1_000_000, 0.5, 0.5, 1, SlotOutcome.Verified)];
        var gross = Settlement.Gross(slots, long.MaxValue);

        var full = Settlement.Bonus("bonus:x:1", slots, gross, treasury: long.MaxValue, Rules)!;
        var short_ = Settlement.Bonus("bonus:x:1", slots, gross, treasury: 25_000, Rules)!;

        Assert.Equal([("provider:a", 50_000L), ("provider:b", 12_500L)], full.Entries.Where(e => e.Credit > 0).Select(e => (e.Account, e.Credit)));
        Assert.Equal(0, Sum(full));
        Assert.Equal(25_000, short_.Entries.Single(e => e.Account == AccountId.Treasury).Debit);
        Assert.Null(Settlement.Bonus("bonus:x:1", slots, gross, treasury: 0, Rules));
    }

    [Fact]
    public void A_slash_takes_at_most_the_stake_and_splits_it_between_the_harmed_tenant_and_the_pool()
    {
        var slash = Settlement.Slash("slash:x:1:n", "n", stake: 50 * AccountId.PerCredit, "acme", Rules, "disagreed")!;
        var small = Settlement.Slash("slash:x:1:m", "m", stake: 3, "acme", Rules, "abandoned")!;

        Assert.Equal([("slashing-pool", 0L, 5_000_000L), ("stake:n", 10_000_000, 0), ("tenant:acme", 0, 5_000_000)],
            slash.Canonical().Select(e => (e.Account, e.Debit, e.Credit)));
        Assert.Equal(3, small.Entries.Single(e => e.Account == "stake:m").Debit);
        Assert.Equal(0, Sum(small));
        Assert.Null(Settlement.Slash("slash:x:1:z", "z", stake: 0, "acme", Rules, "abandoned"));
    }

    [Fact]
    public void Contributors_earn_per_record_by_quality_and_reputation_in_postings_of_at_most_63_payees()
    {
        var few = Settlement.Rewards("reward:d:0-3", [new("b", 1, 0.5, 0.8), new("a", 2, 1.0, 1.0), new("c", 5, 0, 1)], Rules);
        var many = Settlement.Rewards("reward:d:0-100", [.. Enumerable.Range(0, 100).Select(i => new ContributedRecords($"n{i:000}", 1, 1, 1))], Rules);

        // c's records scored 0 for quality: it earns nothing and is left out.
        var only = Assert.Single(few);
        Assert.Equal("reward:d:0-3:0", only.Id);
        Assert.Equal([("treasury", -2_400L), ("contributor:a", 2_000L), ("contributor:b", 400L)], only.Entries.Select(e => (e.Account, e.Change)));
        Assert.Equal(["reward:d:0-100:0", "reward:d:0-100:1"], many.Select(p => p.Id));
        Assert.Equal([64, 38], many.Select(p => p.Entries.Count));
        Assert.Equal(100_000, many.Sum(p => p.Entries[0].Debit));
        Assert.All(many, p => Assert.True(PostingRules.Check(p).Count == 0 && Sum(p) == 0));
    }

    [Fact]
    public void A_new_sybil_identity_starts_below_an_established_honest_node_and_cheating_costs_more_than_honesty_earns()
    {
        var sybil = Reputation.Score(ReputationEvidence.None);
        var honest = Reputation.Score(new ReputationEvidence(Agreed: 8, Delivered: 8, Records: 100, QualitySum: 95, Served: 50));
        var caught = Reputation.Score(new ReputationEvidence(Agreed: 8, Disagreed: 1, Delivered: 8));
        var abandoner = Reputation.Score(new ReputationEvidence(Delivered: 3, Abandoned: 1));
        var poorData = Reputation.Score(new ReputationEvidence(Records: 100, QualitySum: 10));

        Assert.Equal(0.5, sybil);
        Assert.True(honest > Reputation.Trusted, $"{honest}");
        Assert.True(caught < honest && abandoner <= 0.5 && poorData < sybil, $"{caught} {abandoner} {poorData}");
        Assert.Equal(Reputation.Score(8, 0), Reputation.Score(new ReputationEvidence(Agreed: 8)));
    }

    [Fact]
    public void Verification_copies_grow_with_the_jobs_value_and_fall_with_reputation()
    {
        const long Loss = AccountId.PerCredit;
        Assert.Equal(1, Reputation.Copies(1, adaptive: true, 0.95, value: 10 * AccountId.PerCredit, Loss));  // cheap: trusted alone
        Assert.Equal(3, Reputation.Copies(1, adaptive: true, 0.95, value: 100 * AccountId.PerCredit, Loss)); // dear: a majority of three
        Assert.Equal(3, Reputation.Copies(1, adaptive: true, 0.5, value: AccountId.PerCredit / 10, Loss));   // BOINC's floor for the untrusted
        Assert.Equal(Reputation.MaxCopies, Reputation.Copies(1, adaptive: true, 0.5, value: 1000 * AccountId.PerCredit, Loss));
        Assert.Equal(1, Reputation.Copies(1, adaptive: false, 0.1, value: 1000 * AccountId.PerCredit, Loss));
    }
}
