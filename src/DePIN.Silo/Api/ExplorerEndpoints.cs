using System.Reflection;

namespace DePIN.Silo.Api;

/// <summary>
/// The network explorer at <c>/explorer</c>: one page and its script and style sheet, embedded in the silo's assembly.
/// The page reads the public API of the silo that serves it; its content security policy lets it load nothing else.
/// </summary>
public static class ExplorerEndpoints
{
    private const string Policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Dictionary<string, (byte[] Content, string Type)> Files = new(StringComparer.Ordinal)
    {
        ["index.html"] = (Read("index.html"), "text/html; charset=utf-8"),
        ["explorer.js"] = (Read("explorer.js"), "text/javascript; charset=utf-8"),
        ["explorer.css"] = (Read("explorer.css"), "text/css; charset=utf-8"),
    };

    public static IEndpointRouteBuilder MapExplorer(this IEndpointRouteBuilder app)
    {
        app.MapGet("/explorer", (HttpContext context) => Serve(context, "index.html")).ExcludeFromDescription();
        app.MapGet("/explorer/{file}", (string file, HttpContext context) => Serve(context, file)).ExcludeFromDescription();
        return app;
    }

    private static IResult Serve(HttpContext context, string file)
    {
        if (!Files.TryGetValue(file, out var served))
        {
            return Problems.UnknownExplorerFile(file);
        }

        context.Response.Headers.ContentSecurityPolicy = Policy;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "no-cache";
        return TypedResults.Bytes(served.Content, served.Type);
    }

    private static byte[] Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"explorer/{name}")
            ?? throw new InvalidOperationException($"The explorer's {name} is not embedded in the silo.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
