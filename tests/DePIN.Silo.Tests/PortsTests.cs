using System.Net;
using System.Net.Sockets;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>
/// A killed silo's HTTP port is free for the kernel to hand out again, for instance as another restarting silo's
/// gateway port (<see cref="Ports.Free"/>); a restart on the old port then fails. The chaos harness asks
/// <see cref="Ports.IsFree"/> first and starts the silo on a new port when it is not.
/// </summary>
public sealed class PortsTests
{
    [Fact]
    public void A_port_another_listener_took_is_not_free_and_is_again_once_that_listener_stops()
    {
        var port = Ports.Free();
        Assert.True(Ports.IsFree(port));

        using (var other = new TcpListener(IPAddress.Loopback, port))
        {
            other.Start();
            Assert.False(Ports.IsFree(port));
        }

        Assert.True(Ports.IsFree(port));
    }

    [Fact]
    public async Task An_outgoing_connection_from_the_port_does_not_keep_a_listener_off_it()
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var port = Ports.Free();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, port)); // the kernel's choice of source port, made by hand
        await client.ConnectAsync((IPEndPoint)server.LocalEndpoint);
        using var accepted = await server.AcceptSocketAsync();

        Assert.True(Ports.IsFree(port)); // .NET listeners reuse the address: only another listener is in the way
    }
}
