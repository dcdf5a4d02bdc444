using Xunit;
using Npgsql;

namespace DePIN.Testing;

/// <summary>
/// A PostgreSQL server for a test run. With <c>DEPIN_TEST_POSTGRES</c> set (a connection string to a server whose
/// user may create databases), that server is used. Otherwise the local PostgreSQL binaries start a throw-away
/// cluster in a temp folder on a free loopback port (as the <c>postgres</c> user when the tests run as root,
/// since PostgreSQL refuses to run as root). Every test gets its own database from <see cref="CreateDatabase"/>.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string ConnectionVariable = "DEPIN_TEST_POSTGRES";

    private string? _directory;
    private string? _binaries;
    private bool _asPostgresUser;
    private int _port;

    /// <summary>
    /// Whether the throw-away server flushes commits to disk (fsync on) as a real one does. Tests leave it off for
    /// speed; benchmarks of durable writes turn it on.
    /// </summary>
    public bool Durable { get; init; }

    /// <summary>
    /// Whether to start a server of its own even with <c>DEPIN_TEST_POSTGRES</c> set: a run that restarts PostgreSQL
    /// needs one it owns.
    /// </summary>
    public bool Local { get; init; }

    /// <summary>Connection string of the server's maintenance database.</summary>
    public string AdminConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        if (!Local && Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } external)
        {
            AdminConnectionString = external;
            return;
        }

        _binaries = await FindBinaries();
        _asPostgresUser = Environment.UserName == "root";
        _directory = Path.Combine(Path.GetTempPath(), $"depin-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
        if (_asPostgresUser)
        {
            await ProcessRunner.Run("chown", ["postgres:postgres", _directory]);
        }

        await Postgres("initdb", "-D", Data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync", "--no-instructions");
        _port = Ports.Free();
        await Start();
        AdminConnectionString = $"Host=127.0.0.1;Port={_port};Username=postgres;Database=postgres";
    }

    /// <summary>
    /// Stops the server and starts it again on the same data and port, after <paramref name="downtime"/>. Immediate
    /// is a crash as far as the data is concerned (no shutdown checkpoint; the next start recovers from the WAL).
    /// </summary>
    public async Task Restart(TimeSpan downtime = default, bool immediate = false)
    {
        if (_directory is null)
        {
            throw new InvalidOperationException($"The server in {ConnectionVariable} is not this run's to restart; set {nameof(Local)}.");
        }

        await Postgres("pg_ctl", "-D", Data, "-m", immediate ? "immediate" : "fast", "-w", "stop");
        await Task.Delay(downtime);
        await Start();
    }

    private string Data => Path.Combine(_directory!, "data");

    private Task<string> Start() => Postgres("pg_ctl", "-D", Data, "-l", Path.Combine(_directory!, "server.log"), "-w", "-t", "60",
        "-o", $"-p {_port} -k {_directory} -c listen_addresses=127.0.0.1 {(Durable ? "" : "-c fsync=off ")}-c max_connections=300", "start");

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabase(string? name = null)
    {
        name ??= $"depin_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        if (_directory is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            await Postgres("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop");
        }
        finally
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private Task<string> Postgres(string tool, params string[] arguments)
    {
        var path = Path.Combine(_binaries!, tool);
        return _asPostgresUser
            ? ProcessRunner.Run("runuser", ["-u", "postgres", "--", path, .. arguments], workingDirectory: _directory)
            : ProcessRunner.Run(path, arguments, workingDirectory: _directory);
    }

    // pg_config --bindir where it points at the server tools; else the newest /usr/lib/postgresql/<version>/bin.
    private static async Task<string> FindBinaries()
    {
        try
        {
            var bin = (await ProcessRunner.Run("pg_config", ["--bindir"])).Trim();
            if (File.Exists(Path.Combine(bin, "initdb")))
            {
                return bin;
            }
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // no pg_config: look in the Debian layout
        }

        IEnumerable<string> candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(dir => Path.Combine(dir, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var v) ? v : 0)
            : [];
        return candidates.FirstOrDefault() ?? throw new InvalidOperationException(
            $"No PostgreSQL server binaries (initdb) found: install PostgreSQL (apt-get install postgresql) or set {ConnectionVariable}.");
    }
}
