using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace DePIN.AppHost;

/// <summary>
/// The AppHost's PostgreSQL: a container when a container engine answers, otherwise the machine's own PostgreSQL
/// server binaries with data under the git-ignored <c>.data/postgres</c>. Either way a connection string named
/// <c>depin</c>, and the data outlives the AppHost.
/// </summary>
public static class PostgresResources
{
    public const string DatabaseName = "depin";

    public static (IResourceBuilder<IResourceWithConnectionString> Database, IResourceBuilder<IResource> Server) AddDePINPostgres(
        this IDistributedApplicationBuilder builder)
    {
        if (ContainerEngineAnswers())
        {
            var server = builder.AddPostgres("postgres").WithDataVolume("depin-postgres");
            return (server.AddDatabase(DatabaseName), server);
        }

        var port = builder.Configuration.GetValue("Postgres:Port", 55432);
        var data = builder.Configuration["Postgres:DataDirectory"]
                   ?? Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".data", "postgres"));
        var connectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database={DatabaseName}";
        var local = builder.AddExecutable("postgres", "bash", builder.AppHostDirectory,
                Path.Combine(builder.AppHostDirectory, "Postgres", "run-local.sh"),
                data,
                port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithHealthCheck("postgres-ready");
        builder.Services.AddHealthChecks().AddAsyncCheck("postgres-ready", async cancellationToken =>
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                return HealthCheckResult.Unhealthy(ex.Message);
            }
        });

        var database = builder.AddConnectionString(DatabaseName, ReferenceExpression.Create($"{connectionString}"));
        return (database, local);
    }

    private static bool ContainerEngineAnswers()
    {
        try
        {
            using var docker = Process.Start(new ProcessStartInfo("docker", "info")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (docker is null)
            {
                return false;
            }

            if (!docker.WaitForExit(5000))
            {
                docker.Kill();
                return false;
            }

            return docker.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no docker client
        }
    }
}
