using System.Net;
using DePIN.Abstractions;
using DePIN.Abstractions.Security;
using DePIN.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the DePIN SDK.</summary>
public static class DePINClientExtensions
{
    /// <summary>
    /// Adds an Orleans client connected to the DePIN cluster and <see cref="IDePINClient"/>, the typed facade over it.
    /// The client connects when the host starts.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddDePINClient(o => o.ConnectionString = builder.Configuration.GetConnectionString("depin"));
    /// </code>
    /// </example>
    public static IServiceCollection AddDePINClient(this IServiceCollection services, Action<DePINClientOptions> configure)
    {
        var options = new DePINClientOptions();
        configure(options);

        services.AddOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });

            if (options.ConnectionString is { } connectionString)
            {
                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = connectionString;
                });
            }
            else
            {
                var gateways = options.Gateways.Count > 0 ? options.Gateways : [new IPEndPoint(IPAddress.Loopback, 30000)];
                client.UseStaticClustering([.. gateways]);
            }

            if (ClusterTls.Load(options.Tls) is { } tls)
            {
                client.UseTls(tls.Certificate, o =>
                {
                    o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
                    o.RemoteCertificateValidation = (gateway, _, _) => tls.Accepts(gateway);
                });
            }

            client.AddMemoryStreams(StreamNames.Provider, streams => streams.ConfigurePartitioning(StreamNames.MemoryStreamQueues));
        });

        services.AddSingleton<IDePINClient, DePINClient>();
        return services;
    }

    /// <summary>
    /// Adds the SDK configured from <paramref name="configuration"/>: <c>ConnectionStrings:depin</c>,
    /// <c>Orleans:ClusterId</c>, <c>Orleans:ServiceId</c> (what an Aspire AppHost passes to its projects) and
    /// <c>Orleans:Tls</c>.
    /// </summary>
    public static IServiceCollection AddDePINClient(this IServiceCollection services, IConfiguration configuration) =>
        services.AddDePINClient(o =>
        {
            o.ConnectionString = configuration.GetConnectionString("depin");
            o.ClusterId = configuration["Orleans:ClusterId"] ?? o.ClusterId;
            o.ServiceId = configuration["Orleans:ServiceId"] ?? o.ServiceId;
            configuration.GetSection(ClusterTlsOptions.Section).Bind(o.Tls);
        });
}
