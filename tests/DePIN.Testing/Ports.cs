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

    /// <summary>
    /// Whether a listener could take <paramref name="port"/> on loopback now. A port a stopped process listened on is
    /// the kernel's to hand out again, and another process asking for a free port (<see cref="Free"/>) may be
    /// listening on it by the time the first one restarts.
    /// </summary>
    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return false;
        }
    }
}
