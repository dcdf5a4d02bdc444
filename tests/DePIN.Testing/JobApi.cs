using System.Net.Http.Json;
using System.Text.Json;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Jobs;
using DePIN.Core.Economy;

namespace DePIN.Testing;

/// <summary>Calls on <c>/v1/jobs</c> and <c>/v1/tenants</c> with an API key, for the job tests and the chaos run.</summary>
public sealed class JobApi(HttpClient http)
{
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..30];

    /// <summary>What <see cref="NewTenant"/> deposits: a million credits, far more than any test's jobs escrow.</summary>
    public const long Funds = 1_000_000 * AccountId.PerCredit;

    /// <summary>Creates a tenant as the operator and deposits <paramref name="funds"/> microcredits for it; returns its API key.</summary>
    public async Task<string> NewTenant(string? name = null, long funds = Funds)
    {
        name ??= Unique("t");
        using var response = await Send(HttpMethod.Post, "/v1/tenants", Http.OperatorKey, new NewTenant(name));
        response.EnsureSuccessStatusCode();
        var key = (await response.Content.ReadFromJsonAsync<TenantCreated>(ApiJson.Options))!.ApiKey;
        if (funds > 0)
        {
            using var deposit = await Send(HttpMethod.Post, "/v1/ledger/postings", Http.OperatorKey, new PostingRequest($"deposit:{name}", PostingKinds.Deposit,
                [new LedgerEntry(AccountId.External, Debit: funds), new LedgerEntry(AccountId.Tenant(name), Credit: funds)]));
            deposit.EnsureSuccessStatusCode();
        }

        return key;
    }

    public Task<HttpResponseMessage> Send<T>(HttpMethod method, string path, string? key, T body) =>
        SendRaw(method, path, key, JsonSerializer.SerializeToUtf8Bytes(body, ApiJson.Options));

    public Task<HttpResponseMessage> Send(HttpMethod method, string path, string? key) =>
        http.SendAsync(new HttpRequestMessage(method, path).WithKey(key));

    public Task<HttpResponseMessage> SendRaw(HttpMethod method, string path, string? key, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        return http.SendAsync(new HttpRequestMessage(method, path) { Content = content }.WithKey(key));
    }

    public async Task<T> Get<T>(string path, string key)
    {
        using var response = await Send(HttpMethod.Get, path, key);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<T>(ApiJson.Options))!;
    }

    /// <summary>The field names of a validation problem, sorted.</summary>
    public static async Task<string[]> Fields(HttpResponseMessage response)
    {
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. problem.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];
    }
}
