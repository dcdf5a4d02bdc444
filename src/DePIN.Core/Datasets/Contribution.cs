using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DePIN.Core.Datasets;

/// <summary>One field's value: a number or a text (in JSON, a number or a string).</summary>
[JsonConverter(typeof(FieldValueJsonConverter))]
public readonly record struct FieldValue
{
    private FieldValue(double number, string? text)
    {
        Number = number;
        Text = text;
    }

    public double Number { get; }

    /// <summary>Set for text values; null for numbers.</summary>
    public string? Text { get; }

    public bool IsText => Text is not null;

    public static FieldValue Of(double number) => new(number, null);

    public static FieldValue Of(string text) => new(0, text ?? throw new ArgumentNullException(nameof(text)));

    public override string ToString() => Text ?? Number.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Reads and writes a <see cref="FieldValue"/> as a JSON number or string.</summary>
public sealed class FieldValueJsonConverter : JsonConverter<FieldValue>
{
    public override FieldValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetDouble(out var number) && double.IsFinite(number) => FieldValue.Of(number),
        JsonTokenType.String => FieldValue.Of(reader.GetString()!),
        _ => throw new JsonException("A field value must be a finite number or a string."),
    };

    public override void Write(Utf8JsonWriter writer, FieldValue value, JsonSerializerOptions options)
    {
        if (value.Text is { } text)
        {
            writer.WriteStringValue(text);
        }
        else
        {
            writer.WriteNumberValue(value.Number);
        }
    }
}

/// <summary>
/// A record a node contributes to a dataset, with its provenance. It is signed and addressed in its canonical form
/// (<see cref="ToCanonical"/>), so anyone holding the node's public key can check it, now or years later.
/// </summary>
/// <param name="Dataset">The dataset it is for (signed, so it cannot be replayed into another).</param>
/// <param name="NodeId">The contributing node.</param>
/// <param name="Sensor">Device or sensor type, e.g. <c>weather-station/davis-vantage-pro2</c>.</param>
/// <param name="SampledAt">When the values were measured.</param>
/// <param name="Latitude">Where, in degrees.</param>
/// <param name="Longitude">Where, in degrees.</param>
/// <param name="AgentVersion">The agent that read and signed it.</param>
/// <param name="Values">The measured fields by name.</param>
public sealed record Contribution(
    string Dataset,
    string NodeId,
    string Sensor,
    DateTimeOffset SampledAt,
    double Latitude,
    double Longitude,
    string AgentVersion,
    IReadOnlyDictionary<string, FieldValue> Values)
{
    /// <summary>The first bytes of every canonical record: format name and version.</summary>
    public static ReadOnlySpan<byte> Magic => "depin-contribution-v1\0"u8;

    /// <summary>Most fields a record may carry.</summary>
    public const int MaxFields = 256;

    /// <summary>Most bytes in any one string of a record.</summary>
    public const int MaxStringBytes = 1024;

    private const byte NumberTag = 1;
    private const byte TextTag = 2;

    /// <summary>
    /// The canonical bytes: <see cref="Magic"/>, then dataset, node id, sensor, sample time (Unix milliseconds, int64),
    /// latitude and longitude (float64), agent version, the field count (uint32) and each field in ordinal order of
    /// its name: name, then tag 1 and a float64 or tag 2 and a string. Integers are little-endian, floats IEEE 754
    /// binary64 little-endian with −0 written as 0, strings a uint32 byte length and UTF-8. One record has exactly
    /// one encoding, so its SHA-256 is its address.
    /// </summary>
    /// <exception cref="ArgumentException">A value cannot be encoded: not finite, too long, or ill-formed UTF-16.</exception>
    public byte[] ToCanonical()
    {
        if (Values.Count > MaxFields)
        {
            throw new ArgumentException($"A record holds at most {MaxFields} fields, not {Values.Count}.");
        }

        var buffer = new ArrayBufferWriter(256);
        buffer.Write(Magic);
        buffer.WriteString(Dataset, "dataset");
        buffer.WriteString(NodeId, "node");
        buffer.WriteString(Sensor, "sensor");
        buffer.WriteInt64(SampledAt.ToUnixTimeMilliseconds());
        buffer.WriteDouble(Latitude, "latitude");
        buffer.WriteDouble(Longitude, "longitude");
        buffer.WriteString(AgentVersion, "agent");
        buffer.WriteUInt32((uint)Values.Count);
        foreach (var (name, value) in Values.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            buffer.WriteString(name, "field name");
            if (value.Text is { } text)
            {
                buffer.WriteByte(TextTag);
                buffer.WriteString(text, name);
            }
            else
            {
                buffer.WriteByte(NumberTag);
                buffer.WriteDouble(value.Number, name);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>The record a canonical encoding holds; null when the bytes are not one (or not the only encoding of it).</summary>
    public static Contribution? FromCanonical(ReadOnlySpan<byte> bytes)
    {
        var reader = new Reader(bytes);
        if (!reader.Take(Magic.Length).SequenceEqual(Magic))
        {
            return null;
        }

        try
        {
            var dataset = reader.String();
            var node = reader.String();
            var sensor = reader.String();
            var sampled = DateTimeOffset.FromUnixTimeMilliseconds(reader.Int64());
            var latitude = reader.Double();
            var longitude = reader.Double();
            var agent = reader.String();
            var count = reader.UInt32();
            if (count > MaxFields)
            {
                return null;
            }

            var values = new Dictionary<string, FieldValue>((int)count, StringComparer.Ordinal);
            string? previous = null;
            for (var i = 0; i < count; i++)
            {
                var name = reader.String();
                if (previous is not null && string.CompareOrdinal(previous, name) >= 0)
                {
                    return null;
                }

                values[name] = reader.Byte() switch
                {
                    NumberTag => FieldValue.Of(reader.Double()),
                    TextTag => FieldValue.Of(reader.String()),
                    _ => throw new FormatException("Unknown field tag."),
                };
                previous = name;
            }

            if (!reader.AtEnd)
            {
                return null;
            }

            var record = new Contribution(dataset, node, sensor, sampled, latitude, longitude, agent, values);
            // Reject encodings that decode but are not canonical (−0, NaN): re-encoding must give the same bytes.
            return record.ToCanonical().AsSpan().SequenceEqual(bytes) ? record : null;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The record's address: SHA-256 of its canonical bytes.</summary>
    public static byte[] ContentHash(ReadOnlySpan<byte> canonical) => SHA256.HashData(canonical);

    /// <summary>
    /// What a dataset's Merkle log stores as the leaf's entry: the canonical record, the signer's public key and the
    /// signature, so a leaf proves by itself who vouched for it.
    /// </summary>
    public static byte[] LeafEntry(ReadOnlySpan<byte> canonical, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> signature) =>
        [.. canonical, .. publicKey, .. signature];

    private sealed class ArrayBufferWriter(int capacity)
    {
        private byte[] _buffer = new byte[capacity];
        private int _length;

        public void Write(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Grow(bytes.Length));

        public void WriteByte(byte value) => Grow(1)[0] = value;

        public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Grow(4), value);

        public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Grow(8), value);

        public void WriteDouble(double value, string what)
        {
            if (!double.IsFinite(value))
            {
                throw new ArgumentException($"{what} must be a finite number.");
            }

            BinaryPrimitives.WriteDoubleLittleEndian(Grow(8), value == 0 ? 0.0 : value);
        }

        public void WriteString(string value, string what)
        {
            ArgumentNullException.ThrowIfNull(value, what);
            int length;
            try
            {
                length = StrictUtf8.GetByteCount(value);
            }
            catch (EncoderFallbackException)
            {
                throw new ArgumentException($"{what} is not well-formed text.");
            }

            if (length > MaxStringBytes)
            {
                throw new ArgumentException($"{what} is longer than {MaxStringBytes} bytes.");
            }

            WriteUInt32((uint)length);
            StrictUtf8.GetBytes(value, Grow(length));
        }

        public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

        private Span<byte> Grow(int count)
        {
            if (_length + count > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
            }

            var span = _buffer.AsSpan(_length, count);
            _length += count;
            return span;
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private ReadOnlySpan<byte> _rest = bytes;

        public readonly bool AtEnd => _rest.IsEmpty;

        public ReadOnlySpan<byte> Take(int count)
        {
            if (count < 0 || count > _rest.Length)
            {
                throw new FormatException("The record ends early.");
            }

            var taken = _rest[..count];
            _rest = _rest[count..];
            return taken;
        }

        public byte Byte() => Take(1)[0];

        public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public double Double() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

        public string String()
        {
            var length = UInt32();
            if (length > MaxStringBytes)
            {
                throw new FormatException("A string is too long.");
            }

            try
            {
                return StrictUtf8.GetString(Take((int)length));
            }
            catch (DecoderFallbackException)
            {
                throw new FormatException("A string is not UTF-8.");
            }
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
