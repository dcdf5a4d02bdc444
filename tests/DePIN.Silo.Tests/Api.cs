using System.Net.Http.Json;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Nodes;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>One silo process on its own PostgreSQL database, shared by a test class.</summary>
public sealed class SiloOnPostgres(PostgresServer postgres) : IAsyncLifetime
{
    public SiloProcess Silo { get; private set; } = null!;

    public HttpClient Http => Silo.Http;

    public async ValueTask InitializeAsync() =>
        Silo = await SiloProcess.Start(await postgres.CreateDatabase(), $"test-{Guid.NewGuid():N}");

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
