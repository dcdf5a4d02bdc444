using System.Net;
using System.Net.Sockets;

namespace DePIN.Testing;

public static class Ports
{
    /// <summary>A TCP port on loopback that nothing listens on right now.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
