using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DePIN.Abstractions.Http;

namespace DePIN.Testing;

/// <summary>HTTP helpers shared by the API tests.</summary>
public static class Http
{
    /// <summary>The operator key test silos are configured with (they hold only its hash).</summary>
    public const string OperatorKey = "operator-key-for-tests";

    public static string OperatorKeySha256 => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(OperatorKey)));

    /// <summary>The <c>type</c> of an RFC 9457 problem response.</summary>
    public static async Task<string?> ProblemType(HttpResponseMessage response)
    {
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return problem.RootElement.GetProperty("type").GetString();
    }

    /// <summary>
    /// GETs <paramref name="path"/> as JSON; null when the answer is not a success (404 before a node registers, 503
    /// during a fail-over) or does not come in time, or nothing listens. For probes that wait on a condition.
    /// </summary>
    public static async Task<T?> Find<T>(this HttpClient http, string path, string? key = null)
        where T : class
    {
        try
        {
            using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, path).WithKey(key));
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<T>(ApiJson.Options) : null;
        }
        catch (Exception e) when (e is TaskCanceledException or HttpRequestException)
        {
            return null; // not answering (yet): a silo starting again where it was
        }
    }

    /// <summary>A request with <c>Authorization: Bearer KEY</c>.</summary>
    public static HttpRequestMessage WithKey(this HttpRequestMessage request, string? key)
    {
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return request;
    }
}
