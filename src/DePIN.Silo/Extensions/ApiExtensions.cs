using System.Text.Json;
using System.Text.Json.Serialization;
using DePIN.Abstractions.Http;
using DePIN.Silo.Api;
using DePIN.Silo.Nodes;

namespace DePIN.Silo.Extensions;

public static class ApiExtensions
{
    public static WebApplicationBuilder AddDePINApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ApiOptions>().Bind(builder.Configuration.GetSection(ApiOptions.Section));
        services.AddOptions<RateLimitOptions>().Bind(builder.Configuration.GetSection(RateLimitOptions.Section))
            .Validate(o => o.IsValid, "RateLimits: Tokens not negative, Burst at least Tokens, Period positive.").ValidateOnStart();
        services.AddSingleton<RateLimits>();
        services.AddSingleton<NodeKeyCache>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.Stabilize);
        services.AddExceptionHandler<ClusterUnavailableHandler>();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJson.Options.TypeInfoResolver!);
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        });
        services.AddOpenApi();
        return builder;
    }

    public static WebApplication MapDePINApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(); // an error the framework answers with no body (404 for no route, 415...) gets problem details
        app.MapOpenApi();
        app.MapNodeEndpoints();
        app.MapTelemetryEndpoints();
        app.MapJobEndpoints();
        app.MapWorkEndpoints();
        app.MapDatasetEndpoints();
        app.MapTrainingEndpoints();
        app.MapInferenceEndpoints();
        app.MapLedgerEndpoints();
        app.MapExplorer();
        return app;
    }
}
