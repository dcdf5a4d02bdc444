using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DePIN.Testing;

/// <summary>
/// A real Prometheus server (Debian's <c>prometheus</c> package, which <c>.ci/run</c> installs) scraping the given
/// targets every second, with the given rule files, in a temp folder of its own; queried through its HTTP API.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _log = new();

    private PrometheusServer(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public HttpClient Http { get; }

    /// <summary>What the server logged, for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The path of a Prometheus tool (<c>prometheus</c>, <c>promtool</c>), or a failure that says how to install it.</summary>
    public static string Tool(string name) =>
        new[] { "/usr/bin", "/usr/local/bin", "/bin" }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{name} is not installed: apt-get install prometheus (.ci/run does).");

    /// <summary>Starts Prometheus scraping <paramref name="targets"/> (host:port) as job <paramref name="job"/> and waits until it is ready.</summary>
    public static async Task<PrometheusServer> Start(IEnumerable<string> targets, string job, IEnumerable<string>? ruleFiles = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"depin-prometheus-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var config = new StringBuilder()
            .AppendLine("global:")
            .AppendLine("  scrape_interval: 1s")
            .AppendLine("  evaluation_interval: 1s")
            .AppendLine("rule_files:");
        foreach (var rules in ruleFiles ?? [])
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"  - {JsonSerializer.Serialize(rules)}");
        }

        config.AppendLine("scrape_configs:")
            .AppendLine(CultureInfo.InvariantCulture, $"  - job_name: {job}")
            .AppendLine("    static_configs:")
            .AppendLine(CultureInfo.InvariantCulture, $"      - targets: {JsonSerializer.Serialize(targets.ToArray())}");
        var configFile = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(configFile, config.ToString());

        var port = Ports.Free();
        var info = new ProcessStartInfo(Tool("prometheus"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var argument in new[]
                 {
                     $"--config.file={configFile}", $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                     $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                 })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start prometheus.");
        var server = new PrometheusServer(process, directory, port);
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Wait.Until(server.Ready, ready => ready || process.HasExited, "Prometheus ready", TimeSpan.FromSeconds(60));
            if (process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with {process.ExitCode}:\n{server.Log}");
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>An instant query's result vector: each sample's labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> Query(string promql)
    {
        using var document = await Api($"/api/v1/query?query={Uri.EscapeDataString(promql)}");
        var data = document.RootElement.GetProperty("data");
        if (data.GetProperty("resultType").GetString() != "vector")
        {
            throw new InvalidOperationException($"{promql} is not an instant vector query.");
        }

        return [.. data.GetProperty("result").EnumerateArray().Select(sample => (
            (IReadOnlyDictionary<string, string>)sample.GetProperty("metric").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!),
            double.Parse(sample.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))];
    }

    /// <summary>The loaded rules: each rule's group, name, health ("ok", "err", "unknown") and last evaluation error.</summary>
    public async Task<IReadOnlyList<(string Group, string Name, string Health, string? Error)>> Rules()
    {
        using var document = await Api("/api/v1/rules");
        return [.. document.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(group => group.GetProperty("rules").EnumerateArray().Select(rule => (
                group.GetProperty("name").GetString()!,
                rule.GetProperty("name").GetString()!,
                rule.GetProperty("health").GetString()!,
                rule.TryGetProperty("lastError", out var error) ? error.GetString() : null)))];
    }

    private async Task<JsonDocument> Api(string path)
    {
        using var response = await Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? JsonDocument.Parse(body)
            : throw new InvalidOperationException($"GET {path}: HTTP {(int)response.StatusCode}: {body}");
    }

    private async Task<bool> Ready()
    {
        try
        {
            using var response = await Http.GetAsync("/-/ready");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open; the temp folder is the system's to clean.
        }
    }
}
