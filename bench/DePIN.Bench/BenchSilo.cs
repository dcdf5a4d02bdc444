using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DePIN.Silo.Extensions;

namespace DePIN.Bench;

/// <summary>A silo in the benchmark's own process, on free local ports, logging warnings only.</summary>
public static class BenchSilo
{
    public static async Task<(WebApplication Silo, int HttpPort)> Start(string? postgres, params string[] settings)
    {
        var port = FreePort();
        List<string> args =
        [
            "--urls", $"http://127.0.0.1:{port}",
            "--Logging:LogLevel:Default", "Warning",
            // Logs go to stderr: stdout carries the result.
            "--Logging:Console:LogToStandardErrorThreshold", "Trace",
            "--Logging:LogLevel:DePIN.Grains.Nodes.NodeGrain", "Error",
            "--Orleans:Endpoints:SiloPort", FreePort().ToString(CultureInfo.InvariantCulture),
            "--Orleans:Endpoints:GatewayPort", FreePort().ToString(CultureInfo.InvariantCulture),
        ];
        if (postgres is not null)
        {
            args.AddRange(["--ConnectionStrings:depin", postgres]);
        }

        args.AddRange(settings);
        var silo = SiloHost.Create(WebApplication.CreateBuilder([.. args]));
        await silo.StartAsync();
        return (silo, port);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
