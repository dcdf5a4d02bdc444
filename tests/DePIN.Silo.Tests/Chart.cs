using System.Text.Json;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>
/// The tools that render and validate the Helm chart <c>k8s/depin</c> on a machine without Helm: the renderer in
/// <c>tests/chart/render</c> (Go's text/template with the sprig functions, as Helm renders; built here with Debian's
/// Go packages) and the validator in <c>tests/chart/validate</c> (the Kubernetes and Prometheus Operator JSON schemas,
/// from npm). <c>.ci/run</c> installs both toolchains; the fixture builds the renderer and restores the validator.
/// </summary>
public sealed class Chart : IAsyncLifetime
{
    public static readonly string Directory = Path.Combine(Repository.Root, "k8s", "depin");
    private static readonly string Tools = Path.Combine(Repository.Root, "tests", "chart");

    private readonly string _work = Path.Combine(Path.GetTempPath(), $"depin-chart-{Guid.NewGuid():N}");
    private string _renderer = "";

    public async ValueTask InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(_work);
        _renderer = Path.Combine(_work, "render");
        var go = new[] { "/usr/bin/go", "/usr/lib/go/bin/go" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                "go is not installed: apt-get install golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev (.ci/run does).");
        var build = await ProcessRunner.Capture(go, ["build", "-o", _renderer, "./tests/chart/render"], TimeSpan.FromMinutes(5), Repository.Root,
            new Dictionary<string, string>
            {
                ["GOPATH"] = "/usr/share/gocode", ["GO111MODULE"] = "off", ["GOCACHE"] = Path.Combine(_work, "gocache"), ["GOFLAGS"] = "",
            });
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException($"go build of the chart renderer failed ({build.ExitCode}):\n{build.Output}{build.Error}");
        }

        var validator = Path.Combine(Tools, "validate");
        if (!System.IO.Directory.Exists(Path.Combine(validator, "node_modules")))
        {
            await ProcessRunner.Run("npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5), validator);
        }
    }

    /// <summary>
    /// Renders the chart as <c>helm template RELEASE k8s/depin -n NAMESPACE -f values</c> would: the exit code, the
    /// manifests and the error.
    /// </summary>
    public async Task<(int ExitCode, string Manifests, string Error)> Render(string values, string release = "depin", string @namespace = "depin")
    {
        var file = Path.Combine(_work, $"values-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, values);
        return await ProcessRunner.Capture(_renderer, ["-name", release, "-namespace", @namespace, "-f", file, Directory]);
    }

    /// <summary>Each manifest's source template, kind, name and schema errors, as the validator reports them.</summary>
    public static async Task<IReadOnlyList<Validation>> Validate(string manifests)
    {
        var (exitCode, output, error) = await ProcessRunner.Capture("node", ["validate.mjs"], TimeSpan.FromMinutes(1),
            Path.Combine(Tools, "validate"), input: manifests);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"the validator exited with {exitCode}:\n{error}");
        }

        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonSerializer.Deserialize<Validation>(line, Json)!)];
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public sealed record Validation(string Source, string? ApiVersion, string? Kind, string? Name, string[] Errors);

    public ValueTask DisposeAsync()
    {
        try
        {
            System.IO.Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // The system cleans its temp folder.
        }

        return ValueTask.CompletedTask;
    }
}
