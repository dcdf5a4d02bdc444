using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace DePIN.AppHost.Tests;

/// <summary>
/// Records every resource's console output while a test runs, so that a failure on a CI machine says what the
/// silos, the fleet and the operator's command were doing rather than only which wait ran out.
/// </summary>
internal sealed class ResourceLogs : IAsyncDisposable
{
    private const int LinesKept = 60;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _lines = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _watchers = [];
    private readonly Task _discovery;

    public ResourceLogs(DistributedApplication app)
    {
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        _discovery = Task.Run(async () =>
        {
            try
            {
                await foreach (var update in app.ResourceNotifications.WatchAsync(_stop.Token))
                {
                    if (_lines.TryAdd(update.ResourceId, new ConcurrentQueue<string>()))
                    {
                        lock (_watchers)
                        {
                            _watchers.Add(Record(logs, update.ResourceId));
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    /// <summary>The last lines each resource wrote, resource by resource.</summary>
    public string Tail() => string.Join(Environment.NewLine, _lines.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r =>
        $"--- {r.Key} (last {LinesKept} lines) ---{Environment.NewLine}{string.Join(Environment.NewLine, r.Value)}"));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _discovery;
        Task[] watchers;
        lock (_watchers)
        {
            watchers = [.. _watchers];
        }

        await Task.WhenAll(watchers);
        _stop.Dispose();
    }

    private async Task Record(ResourceLoggerService logs, string resourceId)
    {
        var lines = _lines[resourceId];
        try
        {
            await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(_stop.Token))
            {
                foreach (var line in batch)
                {
                    lines.Enqueue(line.Content);
                    while (lines.Count > LinesKept && lines.TryDequeue(out _))
                    {
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
