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

    private void Copy(string from, string to)
    {
        var target = Path.Combine(_folder, "data", to);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(Path.Combine(Nab, "data", from), target);
    }
}
