using System.Security.Cryptography;
using System.Text;

namespace DePIN.Core.Work;

/// <summary>Majority verification of results by hash, shard by shard.</summary>
public static class Verification
{
    /// <summary>What the copies of one shard returned, and what won.</summary>
    /// <param name="Winner">The hash more than half the copies returned; null when none did.</param>
    /// <param name="Agreed">The copies (indexes into the input) that returned the winner.</param>
    /// <param name="Disagreed">The copies that returned something else; empty without a winner.</param>
    public sealed record ShardVerdict(string? Winner, int[] Agreed, int[] Disagreed);

    /// <summary>The majority of one shard's results; every copy must have reported.</summary>
    public static ShardVerdict Majority(IReadOnlyList<string> results)
    {
        var top = results.GroupBy(r => r, StringComparer.Ordinal).MaxBy(g => g.Count());
        if (top is null || top.Count() * 2 <= results.Count)
        {
            return new ShardVerdict(null, [], []);
        }

        var winner = top.Key;
        var agreed = Enumerable.Range(0, results.Count).Where(i => results[i] == winner).ToArray();
        var disagreed = Enumerable.Range(0, results.Count).Where(i => results[i] != winner).ToArray();
        return new ShardVerdict(winner, agreed, disagreed);
    }

    /// <summary>The job's result: its one shard's hash, or SHA-256 over the shards' hashes in order, joined by newlines.</summary>
    public static string Combine(IReadOnlyList<string> shardResults) =>
        shardResults.Count == 1
            ? shardResults[0]
            : Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(string.Join('\n', shardResults))));
}
