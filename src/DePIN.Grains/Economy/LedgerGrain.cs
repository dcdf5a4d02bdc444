using DePIN.Abstractions.Economy;
using DePIN.Core.Economy;
using Orleans.Concurrency;

namespace DePIN.Grains.Economy;

/// <summary>
/// The ledger's door for clients and grains: a reentrant stateless worker, so every silo answers locally and many
/// postings wait on the silo's <see cref="LedgerWriter"/> at once (which is what lets them share a transaction).
/// </summary>
[StatelessWorker, Reentrant]
public sealed class LedgerGrain(LedgerWriter writer) : Grain, ILedgerGrain
{
    /// <summary>Most statement lines one call returns.</summary>
    public const int MaxStatement = 1000;

    public Task Open(string[] accounts)
    {
        if (accounts.FirstOrDefault(a => AccountId.KindOf(a) is null) is { } bad)
        {
            throw new ArgumentException($"'{bad}' is not an account id.", nameof(accounts));
        }

        return writer.Open(accounts);
    }

    public Task<PostingResult> Post(PostingRequest posting) => writer.Post(posting);

    public Task<PostingResult[]> PostMany(PostingRequest[] postings) => writer.PostMany(postings);

    public Task<AccountView?> GetAccount(string account) =>
        AccountId.KindOf(account) is null ? Task.FromResult<AccountView?>(null) : writer.Store.Account(account);

    public Task<AccountPosting[]> Statement(string account, long after, int limit) =>
        writer.Store.Statement(account, Math.Max(0, after), Math.Clamp(limit, 1, MaxStatement));

    public async Task<ChainedPostingView[]> Chain(long after, int limit) =>
        [.. (await writer.Store.Chain(Math.Max(0, after), Math.Clamp(limit, 1, MaxStatement))).Select(ChainedPostingView.From)];

    public async Task<LedgerHeadView> Head()
    {
        var head = await writer.Store.Head();
        return new LedgerHeadView(head.Sequence, Convert.ToHexStringLower(head.Hash));
    }
}
