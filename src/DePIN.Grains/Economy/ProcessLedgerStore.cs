using System.Runtime.CompilerServices;
using DePIN.Abstractions.Economy;
using DePIN.Core.Economy;

namespace DePIN.Grains.Economy;

/// <summary>
/// The ledger of a development silo without PostgreSQL, kept in the process: the same decisions (<see cref="LedgerBook"/>),
/// the same chain, gone when the process ends.
/// </summary>
public sealed class ProcessLedgerStore : ILedgerStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LedgerAccount> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _opened = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PostedReceipt> _taken = new(StringComparer.Ordinal);
    private readonly List<ChainedPosting> _history = [];
    private readonly Dictionary<string, List<int>> _byAccount = new(StringComparer.Ordinal);
    private LedgerHead _head = LedgerHead.Empty;

    public ProcessLedgerStore() => Open([AccountId.External, AccountId.Treasury, AccountId.SlashingPool], DateTimeOffset.UnixEpoch);

    public Task Open(IReadOnlyCollection<string> accounts, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            foreach (var id in accounts)
            {
                var kind = AccountId.KindOf(id) ?? throw new ArgumentException($"'{id}' is not an account id.", nameof(accounts));
                if (_accounts.TryAdd(id, new LedgerAccount(id, kind, AccountId.Unit, 0)))
                {
                    _opened[id] = LedgerHash.Truncate(at);
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<PostingDecision>> Append(IReadOnlyList<Posting> batch, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var result = LedgerBook.Decide(_head, _accounts, _taken, batch, now);
            foreach (var posting in result.Appended)
            {
                _history.Add(posting);
                foreach (var entry in posting.Posting.Entries)
                {
                    if (!_byAccount.TryGetValue(entry.Account, out var rows))
                    {
                        _byAccount[entry.Account] = rows = [];
                    }

                    rows.Add(_history.Count - 1);
                }
            }

            _head = result.Head;
            return Task.FromResult(result.Decisions);
        }
    }

    public Task<AccountView?> Account(string id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_accounts.TryGetValue(id, out var a)
                ? new AccountView(id, AccountKinds.Name(a.Kind), a.Unit, a.Balance, _opened[id],
                    _byAccount.TryGetValue(id, out var rows) ? _history[rows[^1]].Sequence : null)
                : null);
        }
    }

    public Task<AccountPosting[]> Statement(string id, long after, int limit, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_byAccount.TryGetValue(id, out var rows))
            {
                return Task.FromResult<AccountPosting[]>([]);
            }

            return Task.FromResult(rows.Select(i => _history[i]).Where(p => p.Sequence > after).Take(limit).Select(p =>
            {
                var index = Array.FindIndex(p.Posting.Entries.ToArray(), e => e.Account == id);
                var entry = p.Posting.Entries[index];
                return new AccountPosting(p.Sequence, p.Posting.Id, p.Posting.Kind, p.PostedAt, entry.Debit, entry.Credit, p.BalancesAfter[index], p.Posting.Memo);
            }).ToArray());
        }
    }

    public Task<LedgerHead> Head(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_head);
        }
    }

    public Task<IReadOnlyDictionary<string, (AccountKind Kind, string Unit)>> Accounts(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyDictionary<string, (AccountKind, string)>>(
                _accounts.ToDictionary(a => a.Key, a => (a.Value.Kind, a.Value.Unit), StringComparer.Ordinal));
        }
    }

    public Task<IReadOnlyDictionary<string, long>> Balances(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyDictionary<string, long>>(
                _accounts.Where(a => _byAccount.ContainsKey(a.Key)).ToDictionary(a => a.Key, a => a.Value.Balance, StringComparer.Ordinal));
        }
    }

    public Task<ChainedPosting[]> Chain(long after, int limit, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            // The history holds sequences 1, 2, ... in order: sequence n is at index n − 1.
            var from = (int)Math.Min(Math.Max(after, 0), _history.Count);
            return Task.FromResult(_history.Skip(from).Take(limit).ToArray());
        }
    }

    public async IAsyncEnumerable<ChainedPosting> History([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ChainedPosting[] copy;
        lock (_lock)
        {
            copy = [.. _history];
        }

        foreach (var posting in copy)
        {
            yield return posting;
        }

        await Task.CompletedTask;
    }
}
