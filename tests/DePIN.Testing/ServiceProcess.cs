using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;

namespace DePIN.Testing;

/// <summary>
/// A DePIN service (a silo, an agent) running as its own process, as in production: real HTTP, real Orleans
/// networking, real signals.
/// </summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentQueue<string> _firstFailure = new();

    private readonly X509Certificate2? _https;
    private readonly StreamWriter? _log;
    private bool _logClosed;

    private ServiceProcess(Process process, int httpPort, int siloPort, int gatewayPort, X509Certificate2? https, string? logFile)
    {
        _process = process;
        _https = https;
        if (logFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
            _log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        }

        HttpPort = httpPort;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        Http = Client(TimeSpan.FromSeconds(60));
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
    }

    public int HttpPort { get; }
    public int SiloPort { get; }
    public int GatewayPort { get; }
    public HttpClient Http { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The first error the process logged (what usually starts a cascade) and the last lines it wrote, for failure messages.</summary>
    public string Output => _firstFailure.IsEmpty
        ? string.Join('\n', _output)
        : $"first error:\n{string.Join('\n', _firstFailure)}\n...\nlast lines:\n{string.Join('\n', _output)}";

    /// <summary>Starts a silo and waits until its /health answers 200.</summary>
    /// <param name="httpPort">The HTTP port, to start a silo again where its clients expect it; a free one when null.</param>
    /// <param name="https">
    /// The certificate the silo serves HTTPS with (its settings must name its files): the URL is https and
    /// <see cref="Http"/> trusts exactly this certificate.
    /// </param>
    /// <param name="logFile">A file that keeps everything the process writes (appended), beyond the last lines kept in memory.</param>
    public static Task<ServiceProcess> StartSilo(
        string? connectionString, string clusterId, IReadOnlyDictionary<string, string>? settings = null, int? httpPort = null,
        X509Certificate2? https = null, string? logFile = null)
    {
        int http = httpPort ?? Ports.Free(), silo = Ports.Free(), gateway = Ports.Free();
        var arguments = new Dictionary<string, string>
        {
            ["urls"] = $"{(https is null ? "http" : "https")}://127.0.0.1:{http}",
            ["Orleans:ClusterId"] = clusterId,
            ["Orleans:ServiceId"] = clusterId,
            ["Orleans:Endpoints:SiloPort"] = silo.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:Endpoints:GatewayPort"] = gateway.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // A killed silo is declared dead in seconds, not the production default's tens of seconds.
            ["Orleans:Membership:ProbeTimeout"] = "00:00:01",
            ["Orleans:Membership:NumMissedProbesLimit"] = "2",
            ["Orleans:Membership:TableRefreshTimeout"] = "00:00:02",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (connectionString is not null)
        {
            arguments["ConnectionStrings:depin"] = connectionString;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            arguments[key] = value;
        }

        return Start(Repository.Built("DePIN.Silo"), arguments, http, silo, gateway, https: https, logFile: logFile);
    }

    /// <summary>Starts the node agent with its command-line switches and waits until its /health answers 200.</summary>
    public static Task<ServiceProcess> StartAgent(params string[] switches)
    {
        var http = Ports.Free();
        return Start(Repository.Built("DePIN.NodeAgent", "depin-agent"), new Dictionary<string, string>
        {
            ["urls"] = $"http://127.0.0.1:{http}",
            ["Logging:LogLevel:Default"] = "Warning",
        }, http, extraArguments: switches);
    }

    private static async Task<ServiceProcess> Start(
        string assembly, Dictionary<string, string> settings, int httpPort, int siloPort = 0, int gatewayPort = 0,
        string[]? extraArguments = null, X509Certificate2? https = null, string? logFile = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        info.ArgumentList.Add(assembly);
        foreach (var (key, value) in settings)
        {
            info.ArgumentList.Add($"--{key}={value}");
        }

        foreach (var argument in extraArguments ?? [])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {assembly}.");
        var service = new ServiceProcess(process, httpPort, siloPort, gatewayPort, https, logFile);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await service.WaitHealthy(TimeSpan.FromSeconds(90));
        }
        catch
        {
            // A process that never became healthy must not outlive the test that started it.
            await service.DisposeAsync();
            throw;
        }

        return service;
    }

    /// <summary>Kills the process outright (SIGKILL): no shutdown, no final writes.</summary>
    public async Task Kill()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Asks the process to stop (SIGTERM) and waits for a clean exit.</summary>
    public async Task Stop(TimeSpan? timeout = null)
    {
        if (_process.HasExited)
        {
            return;
        }

        _ = SendSignal(_process.Id, 15);
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(cancel.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await Kill();
        }

        _process.Dispose();
        Http.Dispose();
        if (_log is not null)
        {
            lock (_log)
            {
                _logClosed = true;
                _log.Dispose();
            }
        }
    }

    private async Task WaitHealthy(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using var probe = Client(TimeSpan.FromSeconds(2));
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The process exited with {_process.ExitCode} before it was healthy:\n{Output}");
            }

            try
            {
                using var response = await probe.GetAsync("/health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // not answering yet
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"The process was not healthy within {timeout.TotalSeconds:0} s:\n{Output}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>A client of the service's HTTP port; over HTTPS it accepts the service's own certificate and no other.</summary>
    public HttpClient Client(TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler();
        if (_https is { } trusted)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
                presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(trusted.RawData);
        }

        return new HttpClient(handler) { BaseAddress = new Uri($"{(_https is null ? "http" : "https")}://127.0.0.1:{HttpPort}"), Timeout = timeout };
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        if ((_firstFailure.IsEmpty && (line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal)))
            || _firstFailure.Count is > 0 and < 60)
        {
            _firstFailure.Enqueue(line);
        }

        if (_log is not null)
        {
            lock (_log)
            {
                if (!_logClosed)
                {
                    _log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
                }
            }
        }

        _output.Enqueue(line);
        while (_output.Count > 400)
        {
            _output.TryDequeue(out _);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
