using DePIN.Simulation.Nab;
using DePIN.Testing;

namespace DePIN.Core.Tests.Maintenance;

/// <summary>
/// A folder in NAB's layout may hold part of the corpus under the full labels (or data the labels do not name): only
/// the files both labelled and present are scored, and the others are named.
/// </summary>
public sealed class NabCorpusTests : IDisposable
{
    private static readonly string Nab = Path.Combine(Repository.Root, "data", "nab");
    private readonly string _folder = Directory.CreateTempSubdirectory("nab-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Only_files_both_labelled_and_present_are_read_and_the_others_are_named()
    {
        var all = NabCorpus.Read(Nab);
        var kept = all.Where((_, i) => i % 3 == 0).ToArray(); // a third of the data, under every label
        Directory.CreateDirectory(Path.Combine(_folder, "labels"));
        File.Copy(Path.Combine(Nab, "labels", "combined_windows.json"), Path.Combine(_folder, "labels", "combined_windows.json"));
        foreach (var file in kept)
        {
            Copy(file.Name, file.Name);
        }

        Copy(kept[0].Name, "realExtra/unlabelled.csv");

        var (files, labelledOnly, unlabelled) = NabCorpus.Scan(_folder);

        Assert.Equal(kept.Select(f => f.Name), files.Select(f => f.Name));
        Assert.Equal(kept.Select(f => f.Values.Length), files.Select(f => f.Values.Length));
        Assert.Equal(all.Except(kept).Select(f => f.Name).Order(StringComparer.Ordinal), labelledOnly.Order(StringComparer.Ordinal));
        Assert.Equal(["realExtra/unlabelled.csv"], unlabelled);
        Assert.Equal(kept.Select(f => f.Name[..f.Name.IndexOf('/', StringComparison.Ordinal)]), files.Select(f => f.Category));
    }

    [Fact]
    public void Published_thresholds_and_totals_are_read_by_detector_and_profile_and_are_null_when_absent()
    {
        Assert.Null(NabCorpus.ReadPublishedThresholds(_folder));
        Assert.Null(NabCorpus.ReadFinalResults(_folder));

        // The shapes of NAB's config/thresholds.json and results/final_results.json (figures from commit ea702d7).
        Directory.CreateDirectory(Path.Combine(_folder, "config"));
        Directory.CreateDirectory(Path.Combine(_folder, "results"));
        File.WriteAllText(Path.Combine(_folder, "config", "thresholds.json"), """
            {"ARTime": {"reward_low_FN_rate": {"score": 39.3, "threshold": 0.317486},
                        "standard": {"score": 24.1, "threshold": 0.317486}},
             "null": {"standard": {"score": -210.0, "threshold": 0.625}}}
            """);
        File.WriteAllText(Path.Combine(_folder, "results", "final_results.json"), """
            {"ARTime": {"reward_low_FN_rate": 80.36228493638114, "standard": 74.85377223215792},
             "null": {"standard": 0.0}}
            """);

        var thresholds = NabCorpus.ReadPublishedThresholds(_folder)!;
        var totals = NabCorpus.ReadFinalResults(_folder)!;

        Assert.Equal(0.317486, thresholds["ARTime"]["reward_low_FN_rate"]);
        Assert.Equal(0.625, thresholds["null"]["standard"]);
        Assert.Equal(74.85377223215792, totals["ARTime"]["standard"]);
        Assert.Equal(["ARTime", "null"], totals.Keys.Order(StringComparer.Ordinal));
        Assert.False(totals["null"].ContainsKey("reward_low_FP_rate"));
    }

    private void Copy(string from, string to)
    {
        var target = Path.Combine(_folder, "data", to);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(Path.Combine(Nab, "data", from), target);
    }
}
