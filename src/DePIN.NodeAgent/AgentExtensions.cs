using DePIN.NodeAgent.Platform;
using DePIN.NodeAgent.Work;

namespace DePIN.NodeAgent;

public static class AgentExtensions
{
    /// <summary>The agent, its options (validated at start) and its HTTP client for the platform's API.</summary>
    public static WebApplicationBuilder AddNodeAgent(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AgentOptions>()
            .Bind(builder.Configuration.GetSection(AgentOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.Api is null || (o.Api.IsAbsoluteUri && o.Api.Scheme is "http" or "https"),
                "--api must be an absolute http or https URL")
            .Validate(o => o.Weather is null || o.Simulate > 0, "--weather adds weather stations to a simulated fleet: give --simulate too")
            .Validate(o => o.Weather is null || File.Exists(o.Weather), "--weather names a file that does not exist")
            .ValidateOnStart();
        // The agent keeps its own retries and backoff, and its work poll waits for up to WorkRunner.PollWait: the
        // service defaults' standard resilience (10 s attempts, retries, a circuit breaker) would cut long polls off
        // and then open the breaker on every request, telemetry included. RemoveAllResilienceHandlers is the documented
        // way to opt one client out of the defaults; it is marked experimental (EXTEXP0001) in this package version.
#pragma warning disable EXTEXP0001
        builder.Services.AddHttpClient<PlatformApi>((services, http) =>
        {
            var api = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AgentOptions>>().Value.Api!;
            http.BaseAddress = api.AbsoluteUri.EndsWith('/') ? api : new Uri(api.AbsoluteUri + "/");
            http.Timeout = WorkRunner.PollWait + TimeSpan.FromSeconds(20);
        }).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.Services.AddSingleton<AgentMetrics>();
        builder.Services.AddHostedService<AgentService>();

        // A provider's machine exposes /metrics, /health and /alive on loopback unless told where.
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]) &&
            string.IsNullOrEmpty(builder.Configuration["HTTP_PORTS"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:9464");
        }

        return builder;
    }
}
