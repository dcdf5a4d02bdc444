using System.Net.Http.Json;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Http;
using DePIN.Core.Economy;

namespace DePIN.Testing;

/// <summary>Calls on the ledger's routes, for the economy tests and the chaos run.</summary>
public sealed class LedgerApi(HttpClient http)
{
    private readonly JobApi _api = new(http);

    public static PostingRequest Deposit(string account, long amount, string? id = null) =>
        new(id ?? JobApi.Unique("deposit"), PostingKinds.Deposit, [new LedgerEntry(AccountId.External, Debit: amount), new LedgerEntry(account, Credit: amount)]);

    /// <summary>Posts as the operator.</summary>
    public Task<HttpResponseMessage> Post(PostingRequest posting) => _api.Send(HttpMethod.Post, "/v1/ledger/postings", Http.OperatorKey, posting);

    public async Task Fund(string account, long amount)
    {
        using var response = await Post(Deposit(account, amount));
        response.EnsureSuccessStatusCode();
    }

    public async Task<AccountView> Account(string id, string? key = Http.OperatorKey)
    {
        using var response = await _api.Send(HttpMethod.Get, $"/v1/accounts/{id}", key);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<AccountView>(ApiJson.Options))!;
    }

    public async Task<long> Balance(string id) => (await Account(id)).Balance;

    public async Task<AccountPosting[]> Statement(string id, long after = 0, int limit = 100)
    {
        using var response = await _api.Send(HttpMethod.Get, $"/v1/accounts/{id}/postings?after={after}&limit={limit}", Http.OperatorKey);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<AccountPosting[]>(ApiJson.Options))!;
    }

    public async Task<LedgerHeadView> Head() => (await http.GetFromJsonAsync<LedgerHeadView>("/v1/ledger/head", ApiJson.Options))!;

    /// <summary>The whole hash chain, read as the operator a page at a time.</summary>
    public async Task<List<ChainedPostingView>> Chain()
    {
        var chain = new List<ChainedPostingView>();
        while (true)
        {
            using var response = await _api.Send(HttpMethod.Get, $"/v1/ledger/postings?after={chain.Count}&limit=1000", Http.OperatorKey);
            var page = (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<ChainedPostingView[]>(ApiJson.Options))!;
            chain.AddRange(page);
            if (page.Length < 1000)
            {
                return chain;
            }
        }
    }

    /// <summary>The chain replayed through the verifier, accounts known by their ids.</summary>
    public static LedgerReport Verify(List<ChainedPostingView> chain)
    {
        var accounts = chain.SelectMany(p => p.Entries).Select(e => e.Account).Distinct()
            .ToDictionary(a => a, a => (AccountId.KindOf(a)!.Value, AccountId.Unit), StringComparer.Ordinal);
        var verifier = new LedgerVerifier(accounts);
        chain.ForEach(p => verifier.Add(p.ToChained()));
        return verifier.Finish();
    }
}
