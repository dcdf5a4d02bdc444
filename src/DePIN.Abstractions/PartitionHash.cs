using System.Text;

namespace DePIN.Abstractions;

/// <summary>Hashes that partition data: stable across processes and versions, unlike <see cref="string.GetHashCode()"/>.</summary>
public static class PartitionHash
{
    /// <summary>32-bit FNV-1a of the UTF-8 bytes.</summary>
    public static uint Fnv1a(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash;
    }
}
