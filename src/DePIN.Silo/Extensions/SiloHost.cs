namespace DePIN.Silo.Extensions;

/// <summary>The silo host: Orleans silo, HTTP API and the shared service defaults, as Program.cs runs it.</summary>
public static class SiloHost
{
    public static WebApplication Create(WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults();
        // How long a stopping silo may take to hand its grains over and finish its writes (the host's default is 30 s);
        // Kubernetes' grace period must be longer, as the Helm chart sees to.
        if (builder.Configuration.GetValue<TimeSpan?>("Silo:ShutdownTimeout") is { } shutdown)
        {
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdown);
        }

        builder.AddDePINSilo();
        builder.AddDePINApi();

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapDePINApi();
        return app;
    }
}
