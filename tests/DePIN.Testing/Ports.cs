using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace DePIN.Testing;

public static class Ports
{
    private static readonly int EphemeralLow = ReadEphemeralLow();

    /// <summary>
    /// A TCP port on loopback that nothing listens on right now, below the kernel's ephemeral range. The kernel hands
    /// ephemeral ports to outgoing connections: one a killed silo freed was soon some client's source port, and the
    /// silo restarted on it failed with "address already in use" (CI saw it in the chaos run). A port below the range
    /// is taken only by a process that binds it on purpose.
    /// </summary>
    public static int Free()
    {
        var low = Math.Max(1024, EphemeralLow - 20_000);
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(low, EphemeralLow);
            if (Bindable(port))
            {
                return port;
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0); // every port below the range is taken: any free one
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool Bindable(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // /proc/sys/net/ipv4/ip_local_port_range holds "low high"; Linux's default low is 32768.
    private static int ReadEphemeralLow()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32768;
        }
    }
}
