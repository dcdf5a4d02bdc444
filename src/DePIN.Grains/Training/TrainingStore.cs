using System.Security.Cryptography;
using Npgsql;

namespace DePIN.Grains.Training;

/// <summary>Parameter vectors by the SHA-256 of their bytes (<c>depin_training_blobs</c>, schema 0004).</summary>
public sealed class TrainingStore(NpgsqlDataSource db)
{
    /// <summary>Stores <paramref name="body"/> (once: the same bytes have the same name) and returns its lower-case hex hash.</summary>
    public async Task<string> Put(byte[] body, CancellationToken cancellationToken = default)
    {
        var hash = SHA256.HashData(body);
        await using var command = db.CreateCommand("INSERT INTO depin_training_blobs (hash, body) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING");
        command.Parameters.AddWithValue(hash);
        command.Parameters.AddWithValue(body);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>The bytes named <paramref name="hash"/>, checked against it; null when there are none.</summary>
    public async Task<byte[]?> Get(string hash, CancellationToken cancellationToken = default)
    {
        if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit))
        {
            return null;
        }

        await using var command = db.CreateCommand("SELECT body FROM depin_training_blobs WHERE hash = $1");
        command.Parameters.AddWithValue(Convert.FromHexString(hash));
        var body = await command.ExecuteScalarAsync(cancellationToken) as byte[];
        return body is null || Convert.ToHexStringLower(SHA256.HashData(body)) == hash.ToLowerInvariant()
            ? body
            : throw new InvalidDataException($"Training blob {hash} does not match its hash.");
    }
}
