using DePIN.NodeAgent.Platform;

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
            .ValidateOnStart();
        builder.Services.AddHttpClient<PlatformApi>((services, http) =>
        {
            var api = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AgentOptions>>().Value.Api!;
            http.BaseAddress = api.AbsoluteUri.EndsWith('/') ? api : new Uri(api.AbsoluteUri + "/");
        });
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
