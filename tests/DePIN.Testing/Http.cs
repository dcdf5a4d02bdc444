using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

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
