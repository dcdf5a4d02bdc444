namespace DePIN.Core.Identity;

/// <summary>RFC 4648 base32, lower case, without padding: short, case-insensitive, safe in URLs and file names.</summary>
public static class Base32
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string Encode(ReadOnlySpan<byte> data)
    {
        var length = (data.Length * 8 + 4) / 5;
        return string.Create(length, data.ToArray(), static (chars, bytes) =>
        {
            int buffer = 0, bits = 0, index = 0;
            foreach (var b in bytes)
            {
                buffer = (buffer << 8) | b;
                bits += 8;
                while (bits >= 5)
                {
                    chars[index++] = Alphabet[(buffer >> (bits - 5)) & 31];
                    bits -= 5;
                }
            }

            if (bits > 0)
            {
                chars[index] = Alphabet[(buffer << (5 - bits)) & 31];
            }
        });
    }

    public static bool IsEncoded(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (Alphabet.IndexOf(c) < 0)
            {
                return false;
            }
        }

        return true;
    }
}
