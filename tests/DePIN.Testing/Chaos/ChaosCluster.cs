using System.Globalization;

namespace DePIN.Testing.Chaos;

/// <summary>
/// The platform under chaos: a PostgreSQL server the run owns (so it can restart it) and silo processes on one
/// database and cluster id. Each silo keeps its slot's HTTP port across restarts, so a client per slot serves for the
/// whole run and "live" is simply the slots not killed.
/// </summary>
public sealed class ChaosCluster : IAsyncDisposable
{
    private readonly PostgresServer _postgres;
    private readonly Slot[] _slots;
    private readonly string _database;
    private readonly string _clusterId;
    private readonly ChaosHistory _history;

    private ChaosCluster(PostgresServer postgres, string database, string clusterId, Slot[] slots, ChaosHistory history)
    {
        _postgres = postgres;
        _database = database;
        _clusterId = clusterId;
        _slots = slots;
        _history = history;
    }

    /// <summary>
    /// The tests' silo settings, with liveness in two-second intervals (a silent node is offline after 12 s, its
    /// agent's lease lapsed after 8 s) and jobs that check on themselves, give up on unanswered stops and unstarted
    /// slots within a run's patience.
    /// </summary>
    public static Dictionary<string, string> Settings => new()
    {
        ["Api:OperatorKeySha256"] = Http.OperatorKeySha256,
        ["Scheduler:PassInterval"] = "00:00:00.2",
        ["Scheduler:DirectoryRefresh"] = "00:00:00.2",
        ["Nodes:TelemetryInterval"] = "00:00:02",
        ["Jobs:WatchdogPeriod"] = "00:00:10",
        ["Jobs:StopGrace"] = "00:00:20",
        ["Jobs:StartTimeout"] = "00:00:30",
    };

    /// <summary>How long an agent's lease lasts: four telemetry intervals, as the node agent holds it.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(8);

    public int Count => _slots.Length;

    /// <summary>Where every silo process writes all it logs (DePIN's own categories at Information), one file per start: TestResults/chaos/{cluster id}.</summary>
    public string Logs => Path.Combine(Repository.Root, "TestResults", "chaos", _clusterId);

    public int Up => _slots.Count(s => s.Up);

    public IEnumerable<int> UpSlots => Enumerable.Range(0, _slots.Length).Where(i => _slots[i].Up);

    public static async Task<ChaosCluster> Start(int silos, ChaosHistory history, TextWriter log)
    {
        var postgres = new PostgresServer { Durable = true, Local = true };
        await postgres.InitializeAsync();
        var database = await postgres.CreateDatabase();
        var cluster = new ChaosCluster(postgres, database, $"chaos-{Guid.NewGuid():N}", [.. Enumerable.Range(0, silos).Select(_ => new Slot(Ports.Free()))], history);
        log.WriteLine($"silo logs in {cluster.Logs} (lines stamped in UTC; the run started at {DateTime.UtcNow - history.Now:HH:mm:ss.fff})");
        for (var i = 0; i < silos; i++)
        {
            await cluster.StartSlot(i);
            log.WriteLine($"silo {i} up on port {cluster._slots[i].Port}");
        }

        return cluster;
    }

    /// <summary>
    /// Sends a request to a live silo chosen at random and, on a connection failure or a 5xx, to the others in turn.
    /// Null when none answered below 500; otherwise the answer, which the caller disposes.
    /// </summary>
    public async Task<HttpResponseMessage?> Send(Func<HttpRequestMessage> request, Random random, CancellationToken cancellationToken = default)
    {
        int[] order;
        lock (random)
        {
            order = [.. UpSlots.OrderBy(_ => random.Next())];
        }

        foreach (var slot in order)
        {
            _history.Request();
            try
            {
                var response = await _slots[slot].Http.SendAsync(request(), cancellationToken);
                if ((int)response.StatusCode < 500)
                {
                    return response;
                }

                response.Dispose();
            }
            catch (Exception e) when (e is HttpRequestException or IOException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // that silo is gone or going: try another
            }
        }

        return null;
    }

    /// <summary>The client of a live silo chosen at random.</summary>
    public HttpClient Pick(Random random)
    {
        var up = UpSlots.ToArray();
        lock (random)
        {
            return _slots[up[random.Next(up.Length)]].Http;
        }
    }

    /// <summary>Takes a silo down: SIGKILL, or SIGTERM and a clean exit (SIGKILL after a minute). It stops being picked at once.</summary>
    public async Task Kill(int slot, bool graceful)
    {
        var target = _slots[slot];
        target.Up = false;
        var process = target.Process!;
        target.Process = null;
        try
        {
            if (graceful)
            {
                await process.Stop(TimeSpan.FromSeconds(60));
            }
            else
            {
                await process.Kill();
            }
        }
        catch (OperationCanceledException)
        {
            _history.Problem($"silo {slot} did not stop within 60 s of SIGTERM; killed");
        }
        finally
        {
            await process.DisposeAsync();
        }
    }

    /// <summary>Starts a silo in a slot that is down, on the slot's HTTP port, trying again if the start fails.</summary>
    private Task? _postgresRestart;
    private TimeSpan _postgresRestartedAt = TimeSpan.MinValue / 2;

    public async Task Restart(int slot, TextWriter log)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartSlot(slot, log);
                Interlocked.Increment(ref _history.SiloRestarts);
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException && attempt < 3)
            {
                // A silo that starts while its database is down fails fast, and its supervisor starts it again once
                // the database is back: that is the design, not a fault. Failing with the database up is one.
                var restarting = _postgresRestart is { IsCompleted: false } || _postgresRestartedAt > _history.Now - TimeSpan.FromSeconds(10);
                Interlocked.Increment(ref _history.SiloStartFailures);
                if (!restarting)
                {
                    _history.Problem($"silo {slot} did not start (attempt {attempt}): {FirstLine(e.Message)}");
                }

                log.WriteLine($"{_history.Now.TotalSeconds,6:0.0} s: silo {slot} did not start (attempt {attempt}{(restarting ? ", PostgreSQL restarting" : "")}): {FirstLine(e.Message)}");
                if (_postgresRestart is { } postgres)
                {
                    await postgres;
                }
            }
        }
    }

    public Task RestartPostgres(TimeSpan downtime)
    {
        _postgresRestart = Restarted(downtime);
        return _postgresRestart;
    }

    private async Task Restarted(TimeSpan downtime)
    {
        await _postgres.Restart(downtime, immediate: true);
        _postgresRestartedAt = _history.Now;
    }

    public bool IsUp(int slot) => _slots[slot].Up;

    /// <summary>The last lines each silo wrote, for a failure's story.</summary>
    public string Output() => string.Join("\n", _slots.Select((s, i) => $"--- silo {i}{(s.Up ? "" : " (down)")}\n{s.Process?.Output}"));

    private async Task StartSlot(int slot, TextWriter? log = null)
    {
        var target = _slots[slot];
        if (!Ports.IsFree(target.Port))
        {
            // Another process listens on the stopped silo's port (another silo restarting took it as a free port): this
            // silo comes back elsewhere.
            var taken = target.Port;
            target.MoveTo(Ports.Free());
            log?.WriteLine($"{_history.Now.TotalSeconds,6:0.0} s: silo {slot}'s port {taken} is taken; it starts on {target.Port}");
        }

        var settings = Settings;
        settings["Logging:LogLevel:DePIN"] = "Information";
        var file = Path.Combine(Logs, string.Create(CultureInfo.InvariantCulture, $"silo-{slot}-{++target.Starts}.log"));
        var process = await ServiceProcess.StartSilo(_database, _clusterId, settings, target.Port, logFile: file);
        target.Process = process;
        target.Up = true;
    }

    private static string FirstLine(string text) => text.Split('\n')[0];

    public async ValueTask DisposeAsync()
    {
        foreach (var slot in _slots)
        {
            slot.Up = false;
            if (slot.Process is { } process)
            {
                await process.DisposeAsync();
            }

            slot.Dispose();
        }

        await _postgres.DisposeAsync();
    }

    private sealed class Slot(int port)
    {
        private readonly List<HttpClient> _retired = [];

        public int Port { get; private set; } = port;
        public int Starts;
        public volatile bool Up;
        public ServiceProcess? Process { get; set; }

        public HttpClient Http { get; private set; } = Client(port);

        /// <summary>To a new port, while the slot is down. The old client stays usable by whoever holds it, until disposal.</summary>
        public void MoveTo(int port)
        {
            _retired.Add(Http);
            (Port, Http) = (port, Client(port));
        }

        public void Dispose()
        {
            Http.Dispose();
            _retired.ForEach(c => c.Dispose());
        }

        private static HttpClient Client(int port) =>
            new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2), PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
            {
                BaseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}")),
                Timeout = TimeSpan.FromSeconds(30),
            };
    }
}
