using DePIN.Abstractions.Economy;
using DePIN.Core.Economy;

namespace DePIN.Grains.Economy;

/// <summary>
/// Where the ledger lives. <see cref="Append"/> decides a batch with <see cref="LedgerBook"/> against the durable
/// balances and head, and makes what it posts durable in one transaction before it returns; two writers (two silos)
/// never interleave their batches. PostgreSQL in production (<see cref="PostgresLedgerStore"/>); a development silo
/// without a database keeps it in the process (<see cref="ProcessLedgerStore"/>).
/// </summary>
public interface ILedgerStore
{
    /// <summary>Opens the accounts that are not open yet; ids must be valid (<see cref="AccountId.KindOf"/>).</summary>
    Task Open(IReadOnlyCollection<string> accounts, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>Decides and appends a batch, in order; one decision per posting.</summary>
    Task<IReadOnlyList<PostingDecision>> Append(IReadOnlyList<Posting> batch, DateTimeOffset now, CancellationToken cancellationToken = default);

    Task<AccountView?> Account(string id, CancellationToken cancellationToken = default);

    Task<AccountPosting[]> Statement(string id, long after, int limit, CancellationToken cancellationToken = default);

    Task<LedgerHead> Head(CancellationToken cancellationToken = default);

    /// <summary>Every open account's kind and unit, for verification.</summary>
    Task<IReadOnlyDictionary<string, (AccountKind Kind, string Unit)>> Accounts(CancellationToken cancellationToken = default);

    /// <summary>Every account's balance as stored now (accounts never moved are absent), for verification.</summary>
    Task<IReadOnlyDictionary<string, long>> Balances(CancellationToken cancellationToken = default);

    /// <summary>The whole history in sequence order, for verification and export.</summary>
    IAsyncEnumerable<ChainedPosting> History(CancellationToken cancellationToken = default);

    /// <summary>The postings after sequence <paramref name="after"/>, at most <paramref name="limit"/>, in sequence order.</summary>
    Task<ChainedPosting[]> Chain(long after, int limit, CancellationToken cancellationToken = default);
}

/// <summary>How account kinds are written in storage and on the wire.</summary>
public static class AccountKinds
{
    public static string Name(AccountKind kind) => kind.ToString().ToLowerInvariant();
}
