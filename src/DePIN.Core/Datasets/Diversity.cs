namespace DePIN.Core.Datasets;

/// <summary>How evenly records spread over their sources (contributors, regions, device types).</summary>
/// <param name="Sources">Sources with at least one record.</param>
/// <param name="EntropyBits">Shannon entropy of the records' distribution over sources, in bits.</param>
/// <param name="Evenness">Entropy over its maximum, log2(sources): 1 when every source gave as many records, near 0
/// when one source dominates; 1 for a single source by convention (nothing to compare).</param>
/// <param name="TopShare">Share of the records from the largest source.</param>
public readonly record struct Diversity(int Sources, double EntropyBits, double Evenness, double TopShare)
{
    public static Diversity Of(IEnumerable<long> recordsPerSource)
    {
        var counts = recordsPerSource.Where(c => c > 0).ToArray();
        double total = counts.Sum();
        if (counts.Length == 0)
        {
            return new Diversity(0, 0, 0, 0);
        }

        var entropy = -counts.Sum(c => c / total * Math.Log2(c / total));
        var evenness = counts.Length == 1 ? 1 : entropy / Math.Log2(counts.Length);
        return new Diversity(counts.Length, entropy, evenness, counts.Max() / total);
    }
}
