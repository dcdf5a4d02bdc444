using System.Text.RegularExpressions;
using Npgsql;

namespace DePIN.Silo.Persistence;

/// <summary>
/// Applies the project's versioned schema (embedded <c>Migrations/NNNN_name.sql</c>) before the silo starts. Each
/// migration runs once, in order, inside one transaction holding a PostgreSQL advisory lock, so silos starting
/// together apply it exactly once and never see it half done. Waits for the database to accept connections.
/// </summary>
public sealed partial class SchemaMigrator(NpgsqlDataSource dataSource, TimeProvider time, ILogger<SchemaMigrator> logger)
    : IHostedService
{
    // Any fixed 64-bit number: the lock that serializes DePIN schema changes across silos.
    private const long AdvisoryLockKey = 0x4465_5049_4E5F_5343; // "DePIN_SC"

    /// <summary>How long to wait for the database at start (an orchestrator may start it beside the silo).</summary>
    public static TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(90);

    private static IReadOnlyList<Migration> Migrations { get; } = LoadMigrations();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var applied = await RetryUntilReachable(ApplyPending, cancellationToken);
        if (applied.Count > 0)
        {
            LogApplied(string.Join(", ", applied));
        }
        else
        {
            LogUpToDate(Migrations[^1].Version);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<List<string>> ApplyPending(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await Execute(connection, $"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", cancellationToken);
        await Execute(connection, """
            CREATE TABLE IF NOT EXISTS depin_schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """, cancellationToken);

        var done = new HashSet<int>();
        await using (var read = new NpgsqlCommand("SELECT version FROM depin_schema_migrations", connection))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                done.Add(reader.GetInt32(0));
            }
        }

        var applied = new List<string>();
        foreach (var migration in Migrations.Where(m => !done.Contains(m.Version)))
        {
            await Execute(connection, migration.Sql, cancellationToken);
            await using var record = new NpgsqlCommand(
                "INSERT INTO depin_schema_migrations (version, name) VALUES (@version, @name)", connection);
            record.Parameters.AddWithValue("version", migration.Version);
            record.Parameters.AddWithValue("name", migration.Name);
            await record.ExecuteNonQueryAsync(cancellationToken);
            applied.Add($"{migration.Version:0000}_{migration.Name}");
        }

        await transaction.CommitAsync(cancellationToken);
        return applied;
    }

    private async Task<T> RetryUntilReachable<T>(Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + StartupTimeout;
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                return await action(cancellationToken);
            }
            catch (NpgsqlException ex) when (ex.IsTransient || ex.InnerException is System.Net.Sockets.SocketException
                                             || ex is PostgresException { SqlState: "57P03" }) // the server is starting up
            {
                if (time.GetUtcNow() + delay > deadline)
                {
                    throw new InvalidOperationException(
                        $"PostgreSQL did not accept connections within {StartupTimeout.TotalSeconds:0} s: {ex.Message}", ex);
                }

                LogWaiting(ex.Message);
                await Task.Delay(delay, time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<Migration> LoadMigrations()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = MigrationName().Match(resource);
            if (!match.Success)
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new Migration(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                match.Groups[2].Value, reader.ReadToEnd()));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        return migrations;
    }

    [GeneratedRegex(@"\.Migrations\.(\d{4})_([a-z0-9_]+)\.sql$")]
    private static partial Regex MigrationName();

    [LoggerMessage(LogLevel.Information, "Database schema migrations applied: {Migrations}")]
    private partial void LogApplied(string migrations);

    [LoggerMessage(LogLevel.Information, "Database schema is up to date (version {Version})")]
    private partial void LogUpToDate(int version);

    [LoggerMessage(LogLevel.Information, "Waiting for PostgreSQL: {Reason}")]
    private partial void LogWaiting(string reason);

    public sealed record Migration(int Version, string Name, string Sql);
}
