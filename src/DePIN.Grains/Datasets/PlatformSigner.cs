using System.Security.Cryptography;
using DePIN.Core.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DePIN.Grains.Datasets;

/// <summary>
/// The platform's Ed25519 key, which signs tree heads. Every silo must sign with the same key: it comes from
/// <c>Datasets:SigningKey</c> (base64 of the raw 32-byte private key, e.g. from a Kubernetes secret) or, when that is
/// not set, from the database, where the first silo to need one creates it.
/// </summary>
public sealed partial class PlatformSigner(NpgsqlDataSource db, IConfiguration configuration, ILogger<PlatformSigner> logger) : IDisposable
{
    public const string ConfigurationKey = "Datasets:SigningKey";

    private readonly SemaphoreSlim _loading = new(1, 1);
    private NodeSigner? _signer;

    /// <summary>The key's id: derived from its public key as a node id is.</summary>
    public async ValueTask<string> KeyId() => (await Signer()).NodeId;

    public async ValueTask<byte[]> PublicKey() => (await Signer()).PublicKey;

    public async ValueTask<byte[]> Sign(byte[] data) => (await Signer()).Sign(data);

    public void Dispose()
    {
        _signer?.Dispose();
        _loading.Dispose();
    }

    private async ValueTask<NodeSigner> Signer()
    {
        if (_signer is { } loaded)
        {
            return loaded;
        }

        await _loading.WaitAsync();
        try
        {
            return _signer ??= await Load();
        }
        finally
        {
            _loading.Release();
        }
    }

    private async Task<NodeSigner> Load()
    {
        if (configuration[ConfigurationKey] is { Length: > 0 } configured)
        {
            try
            {
                return NodeSigner.Import(Convert.FromBase64String(configured));
            }
            catch (Exception e) when (e is FormatException or ArgumentException or CryptographicException)
            {
                throw new InvalidOperationException($"{ConfigurationKey} must be the base64 of a raw 32-byte Ed25519 private key.", e);
            }
        }

        using (var created = NodeSigner.Create())
        {
            await using var insert = db.CreateCommand(
                "INSERT INTO depin_platform_keys (name, private_key) VALUES ('tree-heads', $1) ON CONFLICT DO NOTHING");
            insert.Parameters.AddWithValue(created.ExportPrivateKey());
            await insert.ExecuteNonQueryAsync();
        }

        await using var select = db.CreateCommand("SELECT private_key FROM depin_platform_keys WHERE name = 'tree-heads'");
        var key = (byte[])(await select.ExecuteScalarAsync())!;
        var signer = NodeSigner.Import(key);
        LogDatabaseKey(signer.NodeId, ConfigurationKey);
        return signer;
    }

    [LoggerMessage(LogLevel.Warning, "Tree heads are signed with key {KeyId}, kept in the database because {Setting} is not set; set it from a secret in production.")]
    private partial void LogDatabaseKey(string keyId, string setting);
}
