namespace DePIN.Cli;

/// <summary>How every command reaches the platform's HTTP API.</summary>
internal static class Api
{
    /// <summary>The environment variable API keys are read from, never the command line (where <c>ps</c> shows them).</summary>
    public const string KeyVariable = "DEPIN_API_KEY";

    public static bool IsApi(string api) => Uri.TryCreate(api, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    /// <summary>A client for the API at <paramref name="api"/>, presenting the key in <see cref="KeyVariable"/> when it is set.</summary>
    public static HttpClient Client(string api, TimeSpan? timeout = null)
    {
        var http = new HttpClient { BaseAddress = new Uri(api), Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        if (Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } key)
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        }

        return http;
    }
}
