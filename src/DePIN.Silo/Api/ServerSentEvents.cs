using System.Text.Json;
using System.Threading.Channels;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Streams;
using Orleans.Streams;

namespace DePIN.Silo.Api;

/// <summary>Server-sent events (text/event-stream): a named event with one JSON object as its data.</summary>
internal static class ServerSentEvents
{
    /// <summary>How one kind of stream item is relayed: which items belong to the watched thing, each item's event name.</summary>
    public sealed record Relay<T>(Func<T, bool> Matches, Func<T, string> Name, Func<string, T> Marker, Func<T, string?> MarkerId);

    /// <summary>
    /// Relays the items of <paramref name="stream"/> that match, after the watched thing's current state: subscribes
    /// (attached) before <paramref name="current"/> is read, so that no change after the read is missed. When there is
    /// no stream or no current state, answers <paramref name="problem"/> instead. Runs until the client goes away.
    /// </summary>
    public static async Task Watch<T>(
        HttpContext context, IAsyncStream<T>? stream, Relay<T> relay, Func<Task<T?>> current, Func<IResult> problem, CancellationToken cancellationToken)
        where T : class
    {
        var events = Channel.CreateUnbounded<T>();
        StreamSubscriptionHandle<T>? subscription = null;
        try
        {
            if (stream is not null)
            {
                subscription = await stream.SubscribeAttachedAsync(
                    e => relay.Matches(e) ? events.Writer.WriteAsync(e).AsTask() : Task.CompletedTask,
                    relay.Marker, relay.MarkerId, cancellationToken);
            }

            if (stream is null || await current() is not { } now)
            {
                await problem().ExecuteAsync(context);
                return;
            }

            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            await Send(context, relay.Name(now), now, cancellationToken);
            await foreach (var e in events.Reader.ReadAllAsync(cancellationToken))
            {
                await Send(context, relay.Name(e), e, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            if (subscription is not null)
            {
                await subscription.UnsubscribeAsync();
            }
        }
    }

    private static async Task Send<T>(HttpContext context, string name, T data, CancellationToken cancellationToken)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: {JsonSerializer.Serialize(data, ApiJson.Options)}\n\n", cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }
}
