using Orleans.Streams;

namespace DePIN.Abstractions.Streams;

/// <summary>
/// Explicit stream subscriptions that are attached when they return. Orleans attaches a new explicit subscriber to a
/// persistent stream asynchronously (the pulling agent hands it a cursor after a handshake, starting from the newest
/// cached event), so events published just after <c>SubscribeAsync</c> returns can pass it by. Here the subscriber
/// publishes a marker on the stream and returns once it reads the marker back: from then on it sees every event.
/// Markers are events whose key field is empty, which every consumer of these streams skips.
/// </summary>
public static class AttachedSubscription
{
    private static readonly TimeSpan Retry = TimeSpan.FromMilliseconds(250);

    /// <summary>Subscribes <paramref name="onNext"/> and returns once the subscription sees the stream's new events.</summary>
    /// <param name="marker">Makes a marker event carrying the given id.</param>
    /// <param name="markerId">The id a marker event carries; null for a real event.</param>
    public static async Task<StreamSubscriptionHandle<T>> SubscribeAttachedAsync<T>(
        this IAsyncStream<T> stream, Func<T, Task> onNext, Func<string, T> marker, Func<T, string?> markerId,
        CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        var attached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handle = await stream.SubscribeAsync((item, _) =>
        {
            if (markerId(item) is { } seen)
            {
                if (seen == id)
                {
                    attached.TrySetResult();
                }

                return Task.CompletedTask;
            }

            return onNext(item);
        }).WaitAsync(cancellationToken);

        try
        {
            // A marker published before the cursor exists is passed by too: publish again until one arrives.
            while (!attached.Task.IsCompleted)
            {
                await stream.OnNextAsync(marker(id)).WaitAsync(cancellationToken);
                await Task.WhenAny(attached.Task, Task.Delay(Retry, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch
        {
            await handle.UnsubscribeAsync();
            throw;
        }

        return handle;
    }
}
