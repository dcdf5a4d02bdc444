namespace DePIN.Silo.Extensions;

/// <summary>The silo host: Orleans silo, HTTP API and the shared service defaults, as Program.cs runs it.</summary>
public static class SiloHost
{
    public static WebApplication Create(WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults();
        builder.AddDePINSilo();
        builder.AddDePINApi();

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapDePINApi();
        return app;
    }
}
