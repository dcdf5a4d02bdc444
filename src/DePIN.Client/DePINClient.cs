using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DePIN.Abstractions;
using DePIN.Abstractions.Nodes;
using Orleans.Streams;

namespace DePIN.Client;

/// <summary>The <see cref="IDePINClient"/> over an Orleans cluster client.</summary>
public sealed class DePINClient(IClusterClient client) : IDePINClient
{
    private const int PageSize = 1000;

    /// <inheritdoc />
    public async Task<NodeDetails?> GetNodeAsync(string nodeId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeId);
        return await client.GetGrain<INodeGrain>(nodeId).GetDetails().AsTask().WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<NodeSummary> ListNodesAsync(
        NodeStatus? status = null, string? region = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var query = client.GetGrain<INodeQueryGrain>(0);
        string? after = null;
        while (true)
        {
            var page = await query.List(new NodeQuery(status, region, after, PageSize)).WaitAsync(cancellationToken);
            foreach (var node in page)
            {
                yield return node;
            }

            if (page.Length < PageSize)
            {
                yield break;
            }

            after = page[^1].NodeId;
        }
    }

    /// <inheritdoc />
    public async Task<NodeEventWatch> WatchNodeEventsAsync(string? region = null, CancellationToken cancellationToken = default)
    {
        var events = Channel.CreateUnbounded<NodeEvent>(new UnboundedChannelOptions { SingleReader = true });
        var stream = client.GetStreamProvider(StreamNames.Provider)
            .GetStream<NodeEvent>(StreamId.Create(StreamNames.NodeEvents, StreamNames.FleetKey));
        var subscription = await stream.SubscribeAsync((nodeEvent, _) =>
        {
            if (region is null || nodeEvent.Region == region)
            {
                events.Writer.TryWrite(nodeEvent);
            }

            return Task.CompletedTask;
        }).WaitAsync(cancellationToken);
        return new NodeEventWatch(events, subscription);
    }
}

/// <summary>A live subscription to node events: enumerate it to read them, dispose it to unsubscribe.</summary>
public sealed class NodeEventWatch : IAsyncEnumerable<NodeEvent>, IAsyncDisposable
{
    private readonly Channel<NodeEvent> _events;
    private readonly StreamSubscriptionHandle<NodeEvent> _subscription;
    private int _disposed;

    internal NodeEventWatch(Channel<NodeEvent> events, StreamSubscriptionHandle<NodeEvent> subscription)
    {
        _events = events;
        _subscription = subscription;
    }

    /// <summary>Reads events as they arrive, until the watch is disposed or the token is cancelled.</summary>
    public IAsyncEnumerator<NodeEvent> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        _events.Reader.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);

    /// <summary>Unsubscribes and ends the enumeration.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _events.Writer.TryComplete();
            try
            {
                await _subscription.UnsubscribeAsync();
            }
            catch (ObjectDisposedException)
            {
                // The client was shut down first: its subscriptions went with it.
            }
        }
    }
}
