namespace DePIN.Core.Work;

/// <summary>
/// Evidence about one node from every role it plays: results checked against other nodes' (agreed or disagreed),
/// leases delivered or abandoned, dataset records with their quality scores, inference requests answered with a
/// valid receipt or left unanswered. Counts only add up; <see cref="Reputation.Score(ReputationEvidence)"/> turns them into one number.
/// </summary>
public sealed record ReputationEvidence(
    long Agreed = 0, long Disagreed = 0, long Delivered = 0, long Abandoned = 0,
    long Records = 0, double QualitySum = 0, long Served = 0, long Unanswered = 0)
{
    public static ReputationEvidence None { get; } = new();

    public ReputationEvidence Add(ReputationEvidence more) => new(
        Agreed + more.Agreed, Disagreed + more.Disagreed, Delivered + more.Delivered, Abandoned + more.Abandoned,
        Records + more.Records, QualitySum + more.QualitySum, Served + more.Served, Unanswered + more.Unanswered);
}

/// <summary>
/// One reputation per node, the mean of a Beta posterior over whether it behaves (after Jøsang's beta reputation
/// system and BOINC's host error rates). It starts from one success and one failure, so any new identity scores 0.5:
/// <code>
/// α = 1 + agreed + delivered + 0.1 · Σ quality + 0.1 · served
/// β = 1 + 5 · disagreed + 3 · abandoned + 0.1 · Σ (1 − quality) + 0.1 · unanswered
/// score = α / (α + β)
/// </code>
/// A wrong result weighs five right ones and an abandoned lease three delivered, so trust is slow to earn and quick
/// to lose; records and answers are many and each says little, so they weigh a tenth. A Sybil that makes a new
/// identity starts at 0.5, below every node with a clean history of eight checked results or more
/// (<see cref="Trusted"/>), and has to earn its way up again.
/// </summary>
public static class Reputation
{
    /// <summary>From this score up a node is trusted: adaptive verification stops adding copies for it.</summary>
    public const double Trusted = 0.9;

    /// <summary>What one disagreement weighs against agreements.</summary>
    public const int DisagreementWeight = 5;

    /// <summary>What one abandoned lease weighs against delivered ones.</summary>
    public const int AbandonmentWeight = 3;

    /// <summary>What one dataset record or inference answer weighs against one checked result.</summary>
    public const double SmallEvidenceWeight = 0.1;

    /// <summary>Agreements a new node needs, with none against it, to be trusted.</summary>
    public const int TrustedAfter = 8;

    /// <summary>Most copies risk-priced verification runs of one shard.</summary>
    public const int MaxCopies = 7;

    /// <summary>The score from checked results alone.</summary>
    public static double Score(long agreed, long disagreed) => Score(new ReputationEvidence(agreed, disagreed));

    public static double Score(ReputationEvidence e)
    {
        var alpha = 1 + e.Agreed + e.Delivered + (SmallEvidenceWeight * (e.QualitySum + e.Served));
        var beta = 1 + (DisagreementWeight * (double)e.Disagreed) + (AbandonmentWeight * (double)e.Abandoned)
            + (SmallEvidenceWeight * (Math.Max(0, e.Records - e.QualitySum) + e.Unanswered));
        return alpha / (alpha + beta);
    }

    /// <summary>
    /// How many copies of each shard to run. Without adaptive verification, what was asked. With it, risk-priced: at
    /// least BOINC's adaptive replication (when any chosen node is not trusted, enough for a majority to exist: three,
    /// and one more than asked), then more until a wrong result's expected cost is acceptable. A wrong result stands
    /// only if a majority agree on it; each agreeing copy from another node multiplies that chance by at most
    /// 1 − r (r: the least reputation among the chosen nodes), so with k copies the expected loss is about
    /// value × (1 − r)^(k/2 + 1), and copies are added (odd counts, at most <see cref="MaxCopies"/>) while it exceeds
    /// <paramref name="acceptableLoss"/>.
    /// </summary>
    public static int Copies(int redundancy, bool adaptive, double lowestReputation, long value = 0, long acceptableLoss = long.MaxValue)
    {
        if (!adaptive)
        {
            return redundancy;
        }

        var copies = lowestReputation < Trusted ? Math.Max(redundancy + 1, 3) : redundancy;
        var wrong = 1 - Math.Clamp(lowestReputation, 0, 1);
        while (copies < MaxCopies && value * Math.Pow(wrong, (copies / 2) + 1) > acceptableLoss)
        {
            copies = copies % 2 == 0 ? copies + 1 : copies + 2;
        }

        return Math.Max(redundancy, Math.Min(copies, Math.Max(redundancy, MaxCopies)));
    }

    /// <summary>The most copies <see cref="Copies"/> can choose for a shard: what escrow must cover.</summary>
    public static int MostCopies(int redundancy, bool adaptive) => adaptive ? Math.Max(redundancy, MaxCopies) : redundancy;
}
