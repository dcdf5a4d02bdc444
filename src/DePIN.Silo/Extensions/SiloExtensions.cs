using System.Net;
using DePIN.Abstractions;
using DePIN.Grains;
using DePIN.Grains.Diagnostics;
using DePIN.Grains.Nodes;
using DePIN.Silo.Persistence;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Orleans.Configuration;
using Orleans.Storage;

namespace DePIN.Silo.Extensions;

public static partial class SiloExtensions
{
    /// <summary>The connection string name: <c>ConnectionStrings:depin</c>.</summary>
    public const string ConnectionName = "depin";

    private const string AdoNetInvariant = "Npgsql";

    /// <summary>
    /// Hosts an Orleans silo. With <c>ConnectionStrings:depin</c>: clustering, grain state and reminders in
    /// PostgreSQL, schema applied first. Without: a single development silo whose state lives in memory.
    /// </summary>
    public static WebApplicationBuilder AddDePINSilo(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName);
        var services = builder.Services;

        services.TryAddSingleton(PlatformClock.System);
        services.AddSingleton<DePINMetrics>();
        services.AddOptions<NodeOptions>()
            .Bind(builder.Configuration.GetSection(NodeOptions.Section))
            .Validate(o => o.Liveness is not null && o.CheckpointInterval > TimeSpan.Zero && o.MaxBatchAge > TimeSpan.Zero,
                "Nodes: the liveness thresholds, CheckpointInterval and MaxBatchAge must be positive, and OfflineAfterIntervals above SuspectAfterIntervals.")
            .ValidateOnStart();

        if (connectionString is not null)
        {
            services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
            services.AddHostedService<SchemaMigrator>(); // registered before the silo, so it runs first
        }
        else
        {
            services.AddHostedService<DevelopmentModeWarning>();
        }

        builder.UseOrleans(silo =>
        {
            if (connectionString is null)
            {
                var endpoints = builder.Configuration.GetSection("Orleans:Endpoints");
                silo.UseLocalhostClustering(
                    endpoints.GetValue("SiloPort", EndpointOptions.DEFAULT_SILO_PORT),
                    endpoints.GetValue("GatewayPort", EndpointOptions.DEFAULT_GATEWAY_PORT));
                silo.AddMemoryGrainStorage(StorageNames.Nodes)
                    .AddMemoryGrainStorage(StorageNames.Directory)
                    .AddMemoryGrainStorage(StorageNames.PubSub)
                    .UseInMemoryReminderService();
            }
            else
            {
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = AdoNetInvariant;
                    o.ConnectionString = connectionString;
                });
                foreach (var name in (string[])[StorageNames.Nodes, StorageNames.Directory, StorageNames.PubSub])
                {
                    silo.AddAdoNetGrainStorage(name, o =>
                    {
                        o.Invariant = AdoNetInvariant;
                        o.ConnectionString = connectionString;
                    });
                }

                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = AdoNetInvariant;
                    o.ConnectionString = connectionString;
                });

                // Advertise loopback unless told otherwise (Kubernetes sets Orleans:Endpoints:AdvertisedIPAddress).
                silo.Configure<EndpointOptions>(o => o.AdvertisedIPAddress ??= IPAddress.Loopback);
            }

            silo.AddMemoryStreams(StreamNames.Provider, streams =>
            {
                streams.ConfigurePartitioning(StreamNames.MemoryStreamQueues);
                streams.ConfigurePullingAgent(agent => agent.Configure(o => o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(20)));
            });

            // Grain state in Orleans' versioned binary format, the one its [Id]s already describe.
            silo.Services.AddSingleton<IGrainStorageSerializer, OrleansGrainStorageSerializer>();
        });

        return builder;
    }

    private sealed partial class DevelopmentModeWarning(ILogger<DevelopmentModeWarning> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LogInMemory(ConnectionName);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(LogLevel.Warning,
            "No connection string '{Name}': running a single development silo with localhost clustering and in-memory grain state and reminders. Node state will NOT survive a restart. Set ConnectionStrings:depin to a PostgreSQL database to keep it.")]
        private partial void LogInMemory(string name);
    }
}
