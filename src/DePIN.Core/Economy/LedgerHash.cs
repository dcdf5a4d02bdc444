using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace DePIN.Core.Economy;

/// <summary>
/// The ledger's hash chain. Posting n's hash is SHA-256 over a domain tag, posting n − 1's hash (32 zero bytes before
/// the first), n, the posting time in Unix microseconds, and the posting's content: id, kind, memo and its entries in
/// account order, each as account, debit, credit. Strings are UTF-8 with a 16-bit big-endian length, integers 64-bit
/// big-endian. Changing any stored posting, dropping one or reordering them changes every later hash, so one head
/// hash vouches for the whole history, and anyone can recompute it offline.
/// </summary>
public static class LedgerHash
{
    public const int Size = 32;

    private static readonly byte[] ChainTag = "depin-ledger-v1\0"u8.ToArray();
    private static readonly byte[] ContentTag = "depin-posting-v1\0"u8.ToArray();

    /// <summary>What the first posting chains from.</summary>
    public static byte[] Genesis => new byte[Size];

    /// <summary>The posting's own fingerprint, without its place in the chain: what a replay is compared by.</summary>
    public static byte[] Content(Posting posting)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write(ContentTag);
        WriteContent(buffer, posting);
        return SHA256.HashData(buffer.WrittenSpan);
    }

    /// <summary>The chain hash of <paramref name="posting"/> as the <paramref name="sequence"/>-th, after <paramref name="previous"/>.</summary>
    public static byte[] Chain(ReadOnlySpan<byte> previous, long sequence, DateTimeOffset postedAt, Posting posting)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write(ChainTag);
        buffer.Write(previous);
        WriteInt64(buffer, sequence);
        WriteInt64(buffer, Microseconds(postedAt));
        WriteContent(buffer, posting);
        return SHA256.HashData(buffer.WrittenSpan);
    }

    /// <summary>Time as stored (PostgreSQL keeps microseconds): hash and row agree to the microsecond.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset at) =>
        DateTimeOffset.UnixEpoch.AddTicks(Microseconds(at) * 10);

    private static long Microseconds(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    private static void WriteContent(ArrayBufferWriter<byte> buffer, Posting posting)
    {
        WriteString(buffer, posting.Id);
        WriteString(buffer, posting.Kind);
        WriteString(buffer, posting.Memo ?? "");
        var entries = posting.Canonical();
        WriteInt64(buffer, entries.Length);
        foreach (var e in entries)
        {
            WriteString(buffer, e.Account);
            WriteInt64(buffer, e.Debit);
            WriteInt64(buffer, e.Credit);
        }
    }

    private static void WriteString(ArrayBufferWriter<byte> buffer, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        if (length > ushort.MaxValue)
        {
            throw new ArgumentException("A ledger string is limited to 65,535 bytes.", nameof(value));
        }

        var span = buffer.GetSpan(2 + length);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)length);
        Encoding.UTF8.GetBytes(value, span[2..]);
        buffer.Advance(2 + length);
    }

    private static void WriteInt64(ArrayBufferWriter<byte> buffer, long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(buffer.GetSpan(8), value);
        buffer.Advance(8);
    }
}
