using DePIN.Core.Maintenance;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DePIN.Grains.Maintenance;

/// <summary>
/// The failure risk every node grain on this silo assesses with: the fleet's latest trained model, fetched from
/// <see cref="IFailureModelGrain"/> when its version changes (checked at most once per risk interval, off the
/// calling grain's turn), or the transparent <see cref="RiskRule"/> until one exists.
/// </summary>
public sealed partial class FailureModels(IGrainFactory grains, PlatformClock clock, IOptions<MaintenanceOptions> options, ILogger<FailureModels> logger)
{
    private static readonly RiskRule Rule = new();
    private FailureModel? _model;
    private long _version;
    private DateTimeOffset _checkedAt = DateTimeOffset.MinValue;
    private int _refreshing;

    public IFailureRisk Current
    {
        get
        {
            var now = clock.UtcNow;
            if (now - _checkedAt >= options.Value.RiskInterval && Interlocked.Exchange(ref _refreshing, 1) == 0)
            {
                _checkedAt = now;
                _ = Task.Run(Refresh);
            }

            return (IFailureRisk?)Volatile.Read(ref _model) ?? Rule;
        }
    }

    private async Task Refresh()
    {
        try
        {
            var grain = grains.GetGrain<IFailureModelGrain>(0);
            if (await grain.GetVersion() > _version && await grain.GetModel() is { } saved)
            {
                // The previous model is left to the collector: other grains may be predicting with it right now.
                Volatile.Write(ref _model, FailureModel.Load(saved.Model));
                _version = saved.Version;
                LogLoaded(saved.Version, saved.Examples, saved.Failures);
            }
        }
        catch (Exception ex)
        {
            LogRefreshFailed(ex); // the current model, or the rule, stands; the next interval tries again
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    [LoggerMessage(LogLevel.Information, "Failure model v{Version} loaded ({Examples} moments, {Failures} before failures)")]
    private partial void LogLoaded(long version, int examples, int failures);

    [LoggerMessage(LogLevel.Warning, "Fetching the failure model failed")]
    private partial void LogRefreshFailed(Exception ex);
}
