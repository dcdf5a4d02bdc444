using System.Buffers;
using DePIN.Abstractions.Http;

namespace DePIN.Silo.Api;

/// <summary>A request body read whole (up to a limit) with the signature its sender put in the header.</summary>
public sealed class SignedBody : IDisposable
{
    private byte[]? _buffer;

    private SignedBody(byte[] buffer, int length, byte[]? signature)
    {
        _buffer = buffer;
        Length = length;
        Signature = signature;
    }

    public int Length { get; }

    /// <summary>The decoded signature header, or null when it is missing or not base64.</summary>
    public byte[]? Signature { get; }

    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, Length);

    /// <summary>The body as memory, to keep slices of across awaits (valid until disposed).</summary>
    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>Reads the body; null when it is longer than <paramref name="limit"/> bytes.</summary>
    public static async Task<SignedBody?> Read(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(request.ContentLength ?? 4096, limit) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return null;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        if (length > limit)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return null;
        }

        return new SignedBody(buffer, length, DecodeSignature(request.Headers[ApiJson.SignatureHeader]));
    }

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static byte[]? DecodeSignature(string? header)
    {
        if (string.IsNullOrEmpty(header))
        {
            return null;
        }

        var bytes = new byte[64];
        return Convert.TryFromBase64String(header, bytes, out var written) && written == 64 ? bytes : null;
    }
}
