using DePIN.Abstractions;
using DePIN.Grains.Datasets;
using DePIN.Grains.Diagnostics;
using DePIN.Grains.Jobs;
using DePIN.Grains.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Storage;

namespace DePIN.Grains;

public static class GrainsExtensions
{
    /// <summary>
    /// What DePIN's grains need on any silo, whatever its storage: their services and options, the stream provider,
    /// and grain state in Orleans' versioned binary format (the one the state types' [Id]s describe). Storage,
    /// clustering and reminders are the host's choice.
    /// </summary>
    public static ISiloBuilder AddDePINGrains(this ISiloBuilder silo, IConfiguration configuration)
    {
        var services = silo.Services;
        services.TryAddSingleton(PlatformClock.System);
        services.TryAddSingleton<DePINMetrics>();
        // The ledger: PostgreSQL when the host registered it, else the development silo's in-process one.
        services.TryAddSingleton<DePIN.Grains.Economy.ILedgerStore, DePIN.Grains.Economy.ProcessLedgerStore>();
        services.TryAddSingleton<DePIN.Grains.Economy.LedgerWriter>();
        // The telemetry journal likewise: PostgreSQL's when the host registered it, else one in the process.
        services.TryAddSingleton<ITelemetryJournal, ProcessTelemetryJournal>();
        services.AddOptions<NodeOptions>()
            .Bind(configuration.GetSection(NodeOptions.Section))
            .Validate(o => o.CheckpointInterval > TimeSpan.Zero && o.MaxBatchAge > TimeSpan.Zero && o.JournalBacklog >= 1 && Validates(o),
                "Nodes: TelemetryInterval, CheckpointInterval and MaxBatchAge must be positive, JournalBacklog at least 1, SuspectAfterIntervals at least 1 and OfflineAfterIntervals above it.")
            .ValidateOnStart();
        services.AddOptions<SchedulerOptions>()
            .Bind(configuration.GetSection(SchedulerOptions.Section))
            .Validate(o => o.Policy is "predictive" or "least_loaded" or "first_fit" or "random" && o.PassInterval > TimeSpan.Zero,
                "Scheduler: Policy must be predictive, least_loaded, first_fit or random, and PassInterval positive.")
            .ValidateOnStart();
        services.AddOptions<JobOptions>()
            .Bind(configuration.GetSection(JobOptions.Section))
            .Validate(o => o.MaxFailures >= 1 && o.StopGrace > TimeSpan.Zero && o.StartTimeout > TimeSpan.Zero && o.WatchdogPeriod > TimeSpan.Zero,
                "Jobs: MaxFailures must be at least 1, and StopGrace, StartTimeout and WatchdogPeriod positive.")
            .ValidateOnStart();
        services.AddOptions<DePIN.Grains.Economy.EconomyOptions>()
            .Bind(configuration.GetSection(DePIN.Grains.Economy.EconomyOptions.Section))
            .Validate(o => o.IsValid, "Economy: shares must be between 0 and 1, amounts not negative, RateInterval and RewardInterval positive.")
            .ValidateOnStart();
        services.AddOptions<DatasetOptions>()
            .Bind(configuration.GetSection(DatasetOptions.Section))
            .Validate(o => o.QualityCheckInterval >= TimeSpan.Zero, "Datasets: QualityCheckInterval must not be negative.")
            .ValidateOnStart();
        services.AddOptions<DePIN.Grains.Inference.InferenceOptions>()
            .Bind(configuration.GetSection(DePIN.Grains.Inference.InferenceOptions.Section))
            .Validate(o => o.AnswerTimeout > TimeSpan.Zero && o.MaxAttempts >= 1 && o.SuspectFor >= TimeSpan.Zero && o.ServingLease > TimeSpan.Zero,
                "Inference: AnswerTimeout and ServingLease must be positive, MaxAttempts at least 1, SuspectFor not negative.")
            .ValidateOnStart();
        services.AddOptions<DePIN.Grains.Maintenance.MaintenanceOptions>()
            .Bind(configuration.GetSection(DePIN.Grains.Maintenance.MaintenanceOptions.Section))
            .Validate(o => o.RiskInterval > TimeSpan.Zero && o.ExampleInterval > TimeSpan.Zero && o.Horizon > TimeSpan.Zero &&
                           o.RetrainInterval > TimeSpan.Zero && o.MinimumFailures >= 1 && o.MaxExamples >= 2 * o.MinimumFailures &&
                           o.ReleaseBelow < o.DrainAt && o.DetectorWarmup >= 0,
                "Maintenance: intervals and the horizon must be positive, MinimumFailures at least 1 and MaxExamples at least twice it, ReleaseBelow below DrainAt.")
            .ValidateOnStart();
        services.TryAddSingleton<DePIN.Grains.Maintenance.FailureModels>();
        services.AddSingleton<IGrainStorageSerializer, OrleansGrainStorageSerializer>();

        silo.AddMemoryStreams(StreamNames.Provider, streams =>
        {
            streams.ConfigurePartitioning(StreamNames.MemoryStreamQueues);
            streams.ConfigurePullingAgent(agent => agent.Configure(o => o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(20)));
            // Node events are announcements that nobody rewinds: keep delivered events seconds, not the default half hour.
            streams.ConfigureCacheEviction(eviction => eviction.Configure(o =>
            {
                o.DataMinTimeInCache = TimeSpan.FromSeconds(5);
                o.DataMaxAgeInCache = TimeSpan.FromSeconds(10);
            }));
        });
        return silo;
    }

    private static bool Validates(NodeOptions options)
    {
        try
        {
            _ = options.Liveness;
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }
}
