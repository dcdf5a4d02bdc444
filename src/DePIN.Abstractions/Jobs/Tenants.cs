namespace DePIN.Abstractions.Jobs;

/// <summary>
/// A tenant: who may submit and see jobs over HTTP. It holds only the SHA-256 hashes of its API keys. Key: tenant name.
/// </summary>
[Alias("DePIN.ITenantGrain")]
public interface ITenantGrain : IGrainWithStringKey
{
    /// <summary>Creates the tenant with its first key's hash; false when it already exists (nothing changes).</summary>
    [Alias("Create")]
    Task<bool> Create(byte[] keyHash);

    /// <summary>Whether a key with this hash belongs to the tenant.</summary>
    [Alias("Accepts")]
    ValueTask<bool> Accepts(byte[] keyHash);
}

/// <summary>Body of <c>POST /v1/tenants</c>.</summary>
/// <param name="Name">The tenant's name: 1–64 lower-case letters, digits and '-'.</param>
public sealed record NewTenant(string Name);

/// <summary>Answer to <c>POST /v1/tenants</c>: the API key, shown this once (the platform keeps only its hash).</summary>
public sealed record TenantCreated(string Name, string ApiKey);

/// <summary>Body of <c>POST /v1/jobs/{id}/cancel</c>.</summary>
public sealed record CancelRequest(string? Reason);
