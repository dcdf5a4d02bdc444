using System.Net;
using DePIN.Abstractions;
using DePIN.Abstractions.Security;
using DePIN.Grains;
using DePIN.Grains.Datasets;
using DePIN.Silo.Persistence;
using Npgsql;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;

namespace DePIN.Silo.Extensions;

public static partial class SiloExtensions
{
    /// <summary>The connection string name: <c>ConnectionStrings:depin</c>.</summary>
    public const string ConnectionName = "depin";

    /// <summary>Cluster and service id when configuration names none (<c>Orleans:ClusterId</c>, <c>Orleans:ServiceId</c>).</summary>
    public const string DefaultClusterId = "depin";

    private const string AdoNetInvariant = "Npgsql";

    /// <summary>
    /// Hosts an Orleans silo. With <c>ConnectionStrings:depin</c>: clustering, grain state and reminders in
    /// PostgreSQL, schema applied first. Without: a single development silo whose state lives in memory.
    /// </summary>
    public static WebApplicationBuilder AddDePINSilo(this WebApplicationBuilder builder)
    {
        var connectionString = WithBoundedPool(builder.Configuration.GetConnectionString(ConnectionName));
        var services = builder.Services;

        if (connectionString is not null)
        {
            services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
            services.AddSingleton<DatasetLog>();
            services.AddSingleton<DePIN.Grains.Economy.ILedgerStore, DePIN.Grains.Economy.PostgresLedgerStore>();
            services.AddSingleton<DePIN.Grains.Training.TrainingStore>();
            services.AddSingleton<DePIN.Grains.Nodes.ITelemetryJournal, DePIN.Grains.Nodes.PostgresTelemetryJournal>();
            services.AddSingleton<PlatformSigner>();
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
                foreach (var name in StorageNames.All)
                {
                    silo.Services.AddGrainStorage(name, (services, _) => ActivatorUtilities.CreateInstance<ProcessGrainStorage>(services));
                }

                silo.UseInMemoryReminderService();
            }
            else
            {
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = AdoNetInvariant;
                    o.ConnectionString = connectionString;
                });
                foreach (var name in StorageNames.All)
                {
                    silo.AddAdoNetGrainStorage(name, o =>
                    {
                        o.Invariant = AdoNetInvariant;
                        o.ConnectionString = connectionString;
                    });
                    // Registered after it, so the name resolves to this: the provider writes a copy taken in the grain's turn.
                    silo.Services.AddKeyedSingleton<IGrainStorage>(name, (services, key) => new SnapshotGrainStorage(
                        AdoNetGrainStorageFactory.Create(services, (string)key!), services.GetRequiredService<DeepCopier>(),
                        services.GetRequiredService<IGrainContextAccessor>()));
                }

                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = AdoNetInvariant;
                    o.ConnectionString = connectionString;
                });

                // Jobs heal lost calls from their reminders. A silo loads the reminders of a ring range it takes over
                // once, when the range changes; if the database is unreachable then, they wait for the next periodic
                // read, which Orleans does every 5 minutes by default. One query a minute per silo bounds that wait.
                silo.Services.AddOptions<ReminderOptions>()
                    .Configure(o => o.RefreshReminderListPeriod = TimeSpan.FromMinutes(1))
                    .Bind(builder.Configuration.GetSection("Orleans:Reminders"));

                if (RunsInKubernetes(builder.Configuration))
                {
                    // Pod IP, ports, service and cluster ids from the downward API; defunct pods are reported.
                    silo.UseKubernetesHosting();
                }
                else
                {
                    // Advertise loopback unless told otherwise (Orleans:Endpoints:AdvertisedIPAddress).
                    silo.Configure<EndpointOptions>(o => o.AdvertisedIPAddress ??= IPAddress.Loopback);
                }
            }

            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = builder.Configuration["Orleans:ClusterId"] ?? DefaultClusterId;
                o.ServiceId = builder.Configuration["Orleans:ServiceId"] ?? DefaultClusterId;
            });
            silo.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Orleans:Membership"));
            if (ClusterTls.Load(builder.Configuration.GetSection(ClusterTlsOptions.Section).Get<ClusterTlsOptions>() ?? new()) is { } tls)
            {
                // Mutual TLS between silos and from clients: each side presents the cluster's certificate and checks the other's.
                silo.UseTls(tls.Certificate, o =>
                {
                    o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
                    o.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
                    o.RemoteCertificateValidation = (peer, _, _) => tls.Accepts(peer);
                });
            }

            silo.AddDePINGrains(builder.Configuration);
        });

        return builder;
    }

    /// <summary>Connections one silo opens at most when the connection string sets no pool size.</summary>
    public const int DefaultMaxPoolSize = 32;

    // Npgsql's default pool (100) lets one busy silo take every connection PostgreSQL allows (also 100 by default);
    // a bounded pool makes bursts wait their turn instead of failing with "too many clients".
    private static string? WithBoundedPool(string? connectionString)
    {
        if (connectionString is null)
        {
            return null;
        }

        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.Keys.Cast<string>().Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant())
            .Any(k => k is "maxpoolsize" or "maximumpoolsize"))
        {
            return connectionString;
        }

        return new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = DefaultMaxPoolSize }.ConnectionString;
    }

    // The Helm chart sets the variables UseKubernetesHosting reads; elsewhere they are absent.
    private static bool RunsInKubernetes(IConfiguration configuration) =>
        !string.IsNullOrEmpty(configuration["KUBERNETES_SERVICE_HOST"]) && !string.IsNullOrEmpty(configuration["ORLEANS_SERVICE_ID"]);

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
