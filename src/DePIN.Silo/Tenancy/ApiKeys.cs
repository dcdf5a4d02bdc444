using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using DePIN.Abstractions.Jobs;

namespace DePIN.Silo.Tenancy;

/// <summary>
/// Tenant API keys: <c>{tenant}.{secret}</c>, the secret 32 random bytes in base64url. The platform stores only
/// SHA-256(secret); the keys carry 256 bits of entropy, so a fast hash is enough (as for GitHub's tokens).
/// </summary>
public static class ApiKeys
{
    public static (string Key, byte[] Hash) Generate(string tenant)
    {
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return ($"{tenant}.{secret}", Hash(secret));
    }

    /// <summary>Splits a presented key; null when it is not shaped like one.</summary>
    public static (string Tenant, byte[] Hash)? Parse(string? key)
    {
        var dot = key?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        if (key is null || dot < 1 || dot == key.Length - 1 || key.Length > 256)
        {
            return null;
        }

        var tenant = key[..dot];
        return TenantName.IsValid(tenant) ? (tenant, Hash(key[(dot + 1)..])) : null;
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
