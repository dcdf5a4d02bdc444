using System.Net.Http.Json;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Nodes;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>One silo process on its own PostgreSQL database, shared by a test class.</summary>
public class SiloOnPostgres(PostgresServer postgres) : IAsyncLifetime
{
    public ServiceProcess Silo { get; private set; } = null!;

    public string ConnectionString { get; private set; } = "";

    public string ClusterId { get; } = $"test-{Guid.NewGuid():N}";

    public HttpClient Http => Silo.Http;

    /// <summary>The operator's key hash, and a scheduler that re-reads the directory within a test's patience.</summary>
    public static Dictionary<string, string> Settings => new()
    {
        ["Api:OperatorKeySha256"] = DePIN.Testing.Http.OperatorKeySha256,
        ["Scheduler:PassInterval"] = "00:00:00.2",
        ["Scheduler:DirectoryRefresh"] = "00:00:00.2",
        // Every reading is quality-checked, so a test's few readings a second count.
        ["Datasets:QualityCheckInterval"] = "00:00:00",
        // Contributors are paid within a test's patience.
        ["Economy:RewardInterval"] = "00:00:00.2",
    };

    public async ValueTask InitializeAsync()
    {
        ConnectionString = await postgres.CreateDatabase();
        Silo = await ServiceProcess.StartSilo(ConnectionString, ClusterId, Configure(Settings));
    }

    /// <summary>A fixture for a test class that needs the silo configured otherwise.</summary>
    protected virtual Dictionary<string, string> Configure(Dictionary<string, string> settings) => settings;

    public ValueTask DisposeAsync() => Silo.DisposeAsync();

    public async Task<NodeDetails> Node(string id)
    {
        using var response = await Http.GetAsync($"/v1/nodes/{id}");
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<NodeDetails>(ApiJson.Options))!;
    }

    public Task<NodeDetails> NodeWhen(string id, Func<NodeDetails, bool> done, string what) =>
        Wait.Until(() => Node(id), done, what);

    public async Task<double> Metric(string name, params (string, string)[] labels) =>
        MetricsText.Value(await Http.GetStringAsync("/metrics"), name, labels);
}
