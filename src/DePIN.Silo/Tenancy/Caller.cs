using System.Security.Cryptography;
using DePIN.Abstractions.Jobs;
using DePIN.Silo.Api;

namespace DePIN.Silo.Tenancy;

/// <summary>Who is calling: a tenant, or an operator (who sees every tenant's jobs).</summary>
public sealed record Caller(string? Tenant)
{
    public bool IsOperator => Tenant is null;

    /// <summary>
    /// Authenticates <c>Authorization: Bearer KEY</c> against the tenant's key hashes, or the operator key's hash
    /// (<c>Api:OperatorKeySha256</c>). The result is the caller or the problem to return: 401, or 429 when the tenant
    /// is over its request rate (operators are not limited).
    /// </summary>
    public static async Task<(Caller? Caller, IResult? Problem)> Authenticate(HttpRequest request, IGrainFactory grains, ApiOptions options)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Problems.Unauthenticated("Send the API key as 'Authorization: Bearer KEY'."));
        }

        var key = header["Bearer ".Length..].Trim();
        if (options.OperatorKeySha256 is { Length: > 0 } operatorHash &&
            CryptographicOperations.FixedTimeEquals(Convert.FromHexString(operatorHash), ApiKeys.Hash(key)))
        {
            return (new Caller((string?)null), null);
        }

        if (ApiKeys.Parse(key) is { } parsed && await grains.GetGrain<ITenantGrain>(parsed.Tenant).Accepts(parsed.Hash))
        {
            var limited = request.HttpContext.RequestServices.GetRequiredService<RateLimits>().Tenant(parsed.Tenant, request.HttpContext.Response);
            return limited is null ? (new Caller(parsed.Tenant), null) : (null, limited);
        }

        return (null, Problems.Unauthenticated("The API key is not valid."));
    }

    /// <summary>Null when the caller is an operator; the 401 or 403 problem to return otherwise.</summary>
    public static async Task<IResult?> RequireOperator(HttpRequest request, IGrainFactory grains, ApiOptions options)
    {
        var (caller, denied) = await Authenticate(request, grains, options);
        return caller is null ? denied : caller.IsOperator ? null : Problems.OperatorOnly();
    }
}
