using System.Security.Cryptography;
using System.Text;

namespace DePIN.Core.Work;

/// <summary>
/// Reputation from checked results, after BOINC: a result that agrees with the majority of the nodes computing the
/// same work counts for the node, one that disagrees counts five times against it. The score is the mean of a
/// Beta posterior that starts at one of each, so a new node scores 0.5 and trust is earned over
/// <see cref="TrustedAfter"/> agreements in a row.
/// </summary>
public static class Reputation
{
    /// <summary>From this score up a node is trusted: adaptive verification stops adding copies for it.</summary>
    public const double Trusted = 0.9;

    /// <summary>What one disagreement weighs against agreements.</summary>
    public const int DisagreementWeight = 5;

    /// <summary>Agreements a new node needs, with none against it, to be trusted.</summary>
    public const int TrustedAfter = 8;

    public static double Score(long agreed, long disagreed) =>
        (agreed + 1.0) / (agreed + (DisagreementWeight * (double)disagreed) + 2.0);

    /// <summary>
    /// How many copies of each shard to run (BOINC's adaptive replication): the asked redundancy when every chosen
    /// node is trusted, else enough for a majority to exist (at least three) and at least one more than asked.
    /// </summary>
    public static int Copies(int redundancy, bool adaptive, double lowestReputation) =>
        adaptive && lowestReputation < Trusted ? Math.Max(redundancy + 1, 3) : redundancy;
}

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
