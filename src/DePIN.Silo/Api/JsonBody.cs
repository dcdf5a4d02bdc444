using System.Text.Json;
using DePIN.Abstractions.Http;

namespace DePIN.Silo.Api;

/// <summary>Reads a JSON body up to a limit into the API contract's type, or says which problem to answer.</summary>
public static class JsonBody
{
    public static async Task<(T? Value, IResult? Problem)> Read<T>(HttpRequest request, int limit, string what, CancellationToken cancellationToken)
        where T : class
    {
        using var body = await SignedBody.Read(request, limit, cancellationToken);
        return body is null ? (null, Problems.Oversize(limit)) : Parse<T>(body, what);
    }

    public static (T? Value, IResult? Problem) Parse<T>(SignedBody body, string what)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body.Bytes, ApiJson.Options) is { } value
                ? (value, null)
                : (null, Problems.Malformed(what, new Dictionary<string, string[]> { ["body"] = ["must be a JSON object"] }));
        }
        catch (JsonException ex)
        {
            return (null, Problems.Malformed(what, ex));
        }
    }
}
