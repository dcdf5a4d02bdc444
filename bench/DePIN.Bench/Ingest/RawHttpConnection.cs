using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DePIN.Bench.Ingest;

/// <summary>
/// A lean HTTP/1.1 client for load generation (what wrk does): one keep-alive connection, one request at a time,
/// request bytes written straight to the socket. It keeps the load generator's share of the two cores small, so
/// the benchmark measures the silo rather than HttpClient.
/// </summary>
public sealed class RawHttpConnection : IDisposable
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
    private readonly Socket _socket;
    private readonly byte[] _hostHeader;
    private byte[] _receive = new byte[8192];
    private Range _body;

    private RawHttpConnection(Socket socket, EndPoint endPoint)
    {
        _socket = socket;
        _hostHeader = Encoding.ASCII.GetBytes($"Host: {endPoint}\r\n");
    }

    public static async Task<RawHttpConnection> Open(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        return new RawHttpConnection(socket, endPoint);
    }

    /// <summary>The last response's body as it came (chunk framing included when it was chunked).</summary>
    public ReadOnlySpan<byte> LastBody => _receive.AsSpan(_body);

    /// <summary>Posts a JSON body, with a signature header unless <paramref name="signatureBase64"/> is empty; returns
    /// the response's status code.</summary>
    public async Task<int> Post(string path, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> signatureBase64)
    {
        var request = ArrayPool<byte>.Shared.Rent(body.Length + path.Length + signatureBase64.Length + 256);
        try
        {
            var length = Write(request, 0, "POST "u8);
            length += Encoding.ASCII.GetBytes(path, request.AsSpan(length));
            length += Write(request, length, " HTTP/1.1\r\n"u8);
            length += Write(request, length, _hostHeader);
            length += Write(request, length, "Content-Type: application/json\r\nContent-Length: "u8);
            Utf8Formatter.TryFormat(body.Length, request.AsSpan(length), out var written);
            length += written;
            if (!signatureBase64.IsEmpty)
            {
                length += Write(request, length, "\r\nDePIN-Signature: "u8);
                length += Write(request, length, signatureBase64.Span);
            }

            length += Write(request, length, "\r\n\r\n"u8);
            length += Write(request, length, body.Span);
            await _socket.SendAsync(request.AsMemory(0, length), SocketFlags.None);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(request);
        }

        return await ReadResponse();
    }

    public void Dispose() => _socket.Dispose();

    private async Task<int> ReadResponse()
    {
        var filled = 0;
        int headerEnd;
        while ((headerEnd = _receive.AsSpan(0, filled).IndexOf(HeaderEnd)) < 0)
        {
            filled += await Receive(filled);
        }

        var head = Encoding.ASCII.GetString(_receive, 0, headerEnd);
        var status = int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        var bodyStart = headerEnd + HeaderEnd.Length;
        var chunked = head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase);
        if (chunked)
        {
            // Problem details come chunked: read to the terminating zero-length chunk.
            while (_receive.AsSpan(bodyStart, filled - bodyStart).IndexOf("0\r\n\r\n"u8) < 0)
            {
                filled += await Receive(filled);
            }

            _body = bodyStart..filled;
            return status;
        }

        var contentLength = ContentLength(head);
        while (filled - bodyStart < contentLength)
        {
            filled += await Receive(filled);
        }

        _body = bodyStart..(bodyStart + contentLength);
        return status;
    }

    private async Task<int> Receive(int filled)
    {
        if (filled == _receive.Length)
        {
            Array.Resize(ref _receive, _receive.Length * 2);
        }

        var read = await _socket.ReceiveAsync(_receive.AsMemory(filled), SocketFlags.None);
        return read > 0 ? read : throw new IOException("The server closed the connection.");
    }

    private static int ContentLength(string head)
    {
        const string Name = "Content-Length:";
        var at = head.IndexOf(Name, StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return 0;
        }

        var end = head.IndexOf('\r', at);
        return int.Parse(head.AsSpan(at + Name.Length, (end < 0 ? head.Length : end) - at - Name.Length).Trim(),
            System.Globalization.CultureInfo.InvariantCulture);
    }

    private static int Write(byte[] buffer, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer.AsSpan(at));
        return bytes.Length;
    }
}
