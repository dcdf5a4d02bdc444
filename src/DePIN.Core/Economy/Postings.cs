namespace DePIN.Core.Economy;

/// <summary>
/// The postings the platform makes, each with an id derived from what it is for, so that doing it again (a retry, a
/// grain repeating a step after a crash) is answered as a duplicate instead of paying twice. Ids a node chooses are
/// kept apart under the node's own prefix, so no request can take an id the platform will need.
/// </summary>
public static class Postings
{
    public static Posting Deposit(string account, string id, long amount, string? memo = null) =>
        new(id, PostingKinds.Deposit, [Entry.From(AccountId.External, amount), Entry.To(account, amount)], memo);

    public static Posting Stake(string nodeId, string requestId, long amount) =>
        new($"stake:{nodeId}:{requestId}", PostingKinds.Stake, [Entry.From(AccountId.Provider(nodeId), amount), Entry.To(AccountId.Stake(nodeId), amount)]);

    public static Posting Unstake(string nodeId, string requestId, long amount) =>
        new($"unstake:{nodeId}:{requestId}", PostingKinds.Unstake, [Entry.From(AccountId.Stake(nodeId), amount), Entry.To(AccountId.Provider(nodeId), amount)]);

    /// <summary>Out of one of the node's own accounts (provider or contributor) to the outside world.</summary>
    public static Posting Withdrawal(string account, string requestId, long amount) =>
        new($"withdrawal:{AccountId.NodeOf(account)}:{requestId}", PostingKinds.Withdrawal, [Entry.From(account, amount), Entry.To(AccountId.External, amount)]);
}
