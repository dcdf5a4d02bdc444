using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using DePIN.Core.Economy;

namespace DePIN.Core.Tests.Economy;

public sealed class LedgerBookTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, LedgerAccount> Open(params string[] ids) =>
        ids.ToDictionary(id => id, id => new LedgerAccount(id, AccountId.KindOf(id)!.Value, AccountId.Unit, 0), StringComparer.Ordinal);

    private static Posting Transfer(string id, string from, string to, long amount, string kind = PostingKinds.Adjustment) =>
        new(id, kind, [Entry.From(from, amount), Entry.To(to, amount)]);

    [Fact]
    public void A_deposit_moves_value_from_the_outside_world_and_every_unit_still_sums_to_zero()
    {
        var accounts = Open(AccountId.External, "tenant:acme");
        var result = LedgerBook.Decide(LedgerHead.Empty, accounts, new Dictionary<string, PostedReceipt>(),
            [Transfer("d-1", AccountId.External, "tenant:acme", 5_000_000, PostingKinds.Deposit)], Now);

        Assert.Equal(PostingOutcome.Posted, result.Decisions[0].Outcome);
        Assert.Equal(-5_000_000, accounts[AccountId.External].Balance);
        Assert.Equal(5_000_000, accounts["tenant:acme"].Balance);
        Assert.Equal((1L, result.Appended[0].Hash), (result.Head.Sequence, result.Head.Hash));
    }

    [Fact]
    public void The_chain_hash_is_the_documented_encoding_recomputed_by_hand()
    {
        var posting = new Posting("p", "deposit", [Entry.To("tenant:a", 7), Entry.From("external", 7)], "m");
        var result = LedgerBook.Decide(LedgerHead.Empty, Open("external", "tenant:a"), new Dictionary<string, PostedReceipt>(), [posting], Now);

        // Tag, previous hash (genesis: zeros), sequence, microseconds, then id, kind, memo, count and entries in account order.
        var bytes = new List<byte>();
        void Int64(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64BigEndian(b, v); bytes.AddRange(b); }
        void Text(string s) { var b = Encoding.UTF8.GetBytes(s); bytes.Add((byte)(b.Length >> 8)); bytes.Add((byte)b.Length); bytes.AddRange(b); }
        bytes.AddRange("depin-ledger-v1\0"u8.ToArray());
        bytes.AddRange(new byte[32]);
        Int64(1);
        Int64((Now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10);
        Text("p"); Text("deposit"); Text("m"); Int64(2);
        Text("external"); Int64(7); Int64(0);
        Text("tenant:a"); Int64(0); Int64(7);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData([.. bytes])), Convert.ToHexStringLower(result.Appended[0].Hash));
    }

    [Fact]
    public void A_posting_sent_again_is_answered_with_its_first_receipt_and_changes_nothing()
    {
        var accounts = Open(AccountId.External, "tenant:acme");
        var taken = new Dictionary<string, PostedReceipt>();
        var first = LedgerBook.Decide(LedgerHead.Empty, accounts, taken, [Transfer("d-1", AccountId.External, "tenant:acme", 10)], Now);
        var again = LedgerBook.Decide(first.Head, accounts, taken, [Transfer("d-1", AccountId.External, "tenant:acme", 10)], Now.AddHours(1));
        var other = LedgerBook.Decide(first.Head, accounts, taken, [Transfer("d-1", AccountId.External, "tenant:acme", 11)], Now);

        Assert.Equal(PostingOutcome.Duplicate, again.Decisions[0].Outcome);
        Assert.Equal(first.Decisions[0].Receipt, again.Decisions[0].Receipt);
        Assert.Empty(again.Appended);
        Assert.Equal(first.Head.Sequence, again.Head.Sequence);
        Assert.Equal(PostingOutcome.Conflict, other.Decisions[0].Outcome);
        Assert.Equal(10, accounts["tenant:acme"].Balance);
    }

    [Fact]
    public void Entries_in_another_order_are_the_same_posting()
    {
        var accounts = Open(AccountId.External, "tenant:acme");
        var taken = new Dictionary<string, PostedReceipt>();
        var head = LedgerBook.Decide(LedgerHead.Empty, accounts, taken, [new Posting("x", "deposit", [Entry.From("external", 3), Entry.To("tenant:acme", 3)])], Now).Head;
        var swapped = LedgerBook.Decide(head, accounts, taken, [new Posting("x", "deposit", [Entry.To("tenant:acme", 3), Entry.From("external", 3)])], Now);

        Assert.Equal(PostingOutcome.Duplicate, swapped.Decisions[0].Outcome);
    }

    [Fact]
    public void Overdrawing_an_account_refuses_the_whole_posting_and_later_ones_see_the_balances_untouched()
    {
        var accounts = Open(AccountId.External, "tenant:acme", "escrow:acme:j", AccountId.Treasury);
        var result = LedgerBook.Decide(LedgerHead.Empty, accounts, new Dictionary<string, PostedReceipt>(),
        [
            Transfer("fund", AccountId.External, "tenant:acme", 100),
            new Posting("split", PostingKinds.Escrow, [Entry.From("tenant:acme", 150), Entry.To("escrow:acme:j", 100), Entry.To(AccountId.Treasury, 50)]),
            Transfer("ok", "tenant:acme", "escrow:acme:j", 100, PostingKinds.Escrow),
        ], Now);

        Assert.Equal([PostingOutcome.Posted, PostingOutcome.InsufficientFunds, PostingOutcome.Posted], result.Decisions.Select(d => d.Outcome));
        Assert.Equal((0L, 100L, 0L), (accounts["tenant:acme"].Balance, accounts["escrow:acme:j"].Balance, accounts[AccountId.Treasury].Balance));
        Assert.Equal(2, result.Head.Sequence);
    }

    [Theory]
    [InlineData(100, 99, "entries")]               // unbalanced
    [InlineData(-5, -5, "entries[0]")]             // negative
    [InlineData(0, 0, "entries[0]")]               // zero
    [InlineData(PostingRules.MaxAmount + 1, PostingRules.MaxAmount + 1, "entries[0]")] // past what JSON keeps exact
    public void Malformed_postings_name_the_field_at_fault(long debit, long credit, string field)
    {
        var posting = new Posting("bad", PostingKinds.Adjustment, [new Entry("tenant:a", debit, 0), new Entry("tenant:b", 0, credit)]);

        Assert.Contains(field, PostingRules.Check(posting).Keys);
    }

    [Fact]
    public void Totals_that_overflow_are_refused_and_so_are_unknown_accounts_and_kinds()
    {
        var many = Enumerable.Range(0, 40).Select(i => new Entry($"tenant:t{i}", PostingRules.MaxAmount, 0))
            .Append(new Entry("treasury", 0, 1)).ToArray();

        Assert.Contains("entries", PostingRules.Check(new Posting("o", PostingKinds.Adjustment, many)).Keys);
        Assert.Contains("entries[1].account", PostingRules.Check(new Posting("u", PostingKinds.Adjustment, [Entry.From("tenant:a", 1), Entry.To("wallet:b", 1)])).Keys);
        Assert.Contains("kind", PostingRules.Check(new Posting("k", "mint", [Entry.From("tenant:a", 1), Entry.To("tenant:b", 1)])).Keys);
        Assert.Contains("entries[1].account", PostingRules.Check(new Posting("twice", PostingKinds.Adjustment, [Entry.From("tenant:a", 1), Entry.To("tenant:a", 1)])).Keys);

        var accounts = Open(AccountId.External);
        var unopened = LedgerBook.Decide(LedgerHead.Empty, accounts, new Dictionary<string, PostedReceipt>(), [Transfer("n", AccountId.External, "tenant:nobody", 1)], Now);
        Assert.Equal(PostingOutcome.UnknownAccount, unopened.Decisions[0].Outcome);
        Assert.Equal(0, accounts[AccountId.External].Balance);
    }

    [Fact]
    public void Each_currency_unit_must_balance_on_its_own()
    {
        var accounts = Open("tenant:a", "tenant:b", AccountId.External);
        accounts["tenant:b"] = accounts["tenant:b"] with { Unit = "ugpu" };
        var mixed = LedgerBook.Decide(LedgerHead.Empty, accounts, new Dictionary<string, PostedReceipt>(),
            [new Posting("m", PostingKinds.Adjustment, [Entry.From(AccountId.External, 5), Entry.To("tenant:b", 5)])], Now);

        Assert.Equal(PostingOutcome.Unbalanced, mixed.Decisions[0].Outcome);
    }

    [Fact]
    public void Account_ids_name_one_owner_of_one_kind()
    {
        Assert.Equal(AccountKind.Escrow, AccountId.KindOf(AccountId.Escrow("acme", "train.42")));
        Assert.Equal("acme", AccountId.TenantOf("escrow:acme:train.42"));
        Assert.Equal("acme", AccountId.TenantOf("tenant:acme"));
        Assert.Null(AccountId.TenantOf("provider:n1"));
        Assert.Equal("n1", AccountId.NodeOf("stake:n1"));
        Assert.Null(AccountId.KindOf("escrow:acme"));
        Assert.Null(AccountId.KindOf("tenant:a b"));
        Assert.Null(AccountId.KindOf("tenant:"));
        Assert.Equal(2_500_000, AccountId.Microcredits(2.5m));
    }

    /// <summary>
    /// A property test over random histories (seeded, so a failure repeats): valid and invalid postings, replays and
    /// conflicting replays, in batches. After every batch the invariants hold, and a model kept apart from the book (the
    /// sum of accepted postings' changes) agrees with it; the whole history then verifies, and any tampering does not.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Random_histories_conserve_supply_never_overdraw_and_verify(int seed)
    {
        var random = new Random(seed);
        string[] ids = [AccountId.External, AccountId.Treasury, AccountId.SlashingPool, "tenant:a", "tenant:b", "escrow:a:j1", "escrow:b:j2",
            "provider:n1", "provider:n2", "stake:n1", "stake:n2", "contributor:n1"];
        var accounts = Open(ids);
        var taken = new Dictionary<string, PostedReceipt>(StringComparer.Ordinal);
        var model = ids.ToDictionary(id => id, _ => 0L, StringComparer.Ordinal);
        var sent = new List<Posting>();
        var accepted = new List<Posting>();
        var history = new List<ChainedPosting>();
        var head = LedgerHead.Empty;
        var time = Now;

        for (var round = 0; round < 200; round++)
        {
            var batch = Enumerable.Range(0, random.Next(1, 12)).Select(_ => Generate(random, ids, sent, round)).ToList();
            var before = accounts.ToDictionary(a => a.Key, a => a.Value.Balance, StringComparer.Ordinal);
            time = time.AddSeconds(random.Next(0, 3));
            var result = LedgerBook.Decide(head, accounts, taken, batch, time);
            head = result.Head;
            history.AddRange(result.Appended);
            sent.AddRange(batch);

            foreach (var (posting, decision) in batch.Zip(result.Decisions))
            {
                if (decision.Outcome == PostingOutcome.Posted)
                {
                    accepted.Add(posting);
                    foreach (var e in posting.Entries)
                    {
                        model[e.Account] += e.Change;
                    }
                }
            }

            Assert.Equal(0, accounts.Values.Sum(a => a.Balance));
            Assert.All(accounts.Values.Where(a => a.Kind != AccountKind.External), a => Assert.True(a.Balance >= 0, $"{a.Id} at {a.Balance}"));
            Assert.Equal(model, accounts.ToDictionary(a => a.Key, a => a.Value.Balance, StringComparer.Ordinal));
            Assert.Equal(result.Decisions.Count(d => d.Outcome == PostingOutcome.Posted), result.Appended.Count);
            if (result.Appended.Count == 0)
            {
                Assert.Equal(before, accounts.ToDictionary(a => a.Key, a => a.Value.Balance, StringComparer.Ordinal));
            }
        }

        // Replaying every acknowledged posting changes nothing.
        var replay = LedgerBook.Decide(head, accounts, taken, accepted, time.AddHours(1));
        Assert.Empty(replay.Appended);
        Assert.All(replay.Decisions, d => Assert.Equal(PostingOutcome.Duplicate, d.Outcome));
        Assert.Equal(model, accounts.ToDictionary(a => a.Key, a => a.Value.Balance, StringComparer.Ordinal));

        var kinds = accounts.ToDictionary(a => a.Key, a => (a.Value.Kind, a.Value.Unit), StringComparer.Ordinal);
        var stored = accounts.ToDictionary(a => a.Key, a => a.Value.Balance, StringComparer.Ordinal);
        Assert.True(history.Count > 300, $"only {history.Count} postings were accepted");
        var report = Verify(kinds, history, stored);
        Assert.True(report.Valid, string.Join("\n", report.Problems));
        Assert.Equal(head.Hash, report.HeadHash);
        Assert.Equal(-accounts[AccountId.External].Balance, report.Supply[AccountId.Unit]);

        // Tampering anywhere is found: an amount changed (both sides, so it still balances), a posting dropped, two swapped.
        var at = random.Next(history.Count);
        var changed = history[at] with
        {
            Posting = history[at].Posting with { Entries = [.. history[at].Posting.Entries.Select(e => e with { Debit = e.Debit * 2, Credit = e.Credit * 2 })] },
        };
        Assert.False(Verify(kinds, [.. history[..at], changed, .. history[(at + 1)..]], stored).Valid);
        Assert.False(Verify(kinds, [.. history[..at], .. history[(at + 1)..]], stored).Valid);
        var swapped = history.ToList();
        (swapped[at], swapped[(at + 1) % swapped.Count]) = (swapped[(at + 1) % swapped.Count], swapped[at]);
        Assert.False(Verify(kinds, swapped, stored).Valid);
    }

    private static LedgerReport Verify(
        IReadOnlyDictionary<string, (AccountKind, string)> kinds, IEnumerable<ChainedPosting> history, IReadOnlyDictionary<string, long> stored)
    {
        var verifier = new LedgerVerifier(kinds);
        foreach (var posting in history)
        {
            verifier.Add(posting);
        }

        return verifier.Finish(stored);
    }

    private static Posting Generate(Random random, string[] ids, List<Posting> sent, int round)
    {
        var roll = random.NextDouble();
        if (sent.Count > 0 && roll < 0.1)
        {
            return sent[random.Next(sent.Count)]; // a replay
        }

        if (sent.Count > 0 && roll < 0.15)
        {
            var earlier = sent[random.Next(sent.Count)];
            return earlier with { Memo = "changed" }; // the same id with other content
        }

        var id = $"p-{round}-{random.Next(1_000_000)}";
        if (roll < 0.35)
        {
            return new Posting(id, PostingKinds.Deposit, [Entry.From(AccountId.External, random.Next(1, 1_000_000)), Entry.To(ids[random.Next(1, ids.Length)], random.Next(1, 1_000_000))]); // usually unbalanced
        }

        // Several entries, balanced by construction, between random accounts: often more than one holds.
        var count = random.Next(2, 5);
        var chosen = ids.OrderBy(_ => random.Next()).Take(count).ToArray();
        if (random.NextDouble() < 0.3 && !chosen.Contains(AccountId.External))
        {
            chosen[0] = AccountId.External; // value comes in from outside often enough for the rest to move it
        }

        var amounts = chosen[1..].Select(_ => (long)random.Next(1, 500_000)).ToArray();
        var entries = new List<Entry> { Entry.From(chosen[0], amounts.Sum()) };
        entries.AddRange(chosen[1..].Select((account, i) => Entry.To(account, amounts[i])));
        return new Posting(id, PostingKinds.Adjustment, entries);
    }
}
