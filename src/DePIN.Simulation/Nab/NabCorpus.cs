using System.Globalization;
using System.Text.Json;

namespace DePIN.Simulation.Nab;

/// <summary>An anomaly window: the first and last labelled timestamps, both inside the series.</summary>
public readonly record struct NabWindow(DateTime Start, DateTime End);

/// <summary>One NAB series: its name as the labels spell it (<c>category/file.csv</c>), its rows and its windows.</summary>
public sealed record NabFile(string Name, DateTime[] Timestamps, double[] Values, NabWindow[] Windows)
{
    /// <summary>NAB's category: the folder under <c>data/</c> (realKnownCause, artificialWithAnomaly, …).</summary>
    public string Category => Name[..Name.IndexOf('/', StringComparison.Ordinal)];

    /// <summary>The row range each window covers, checked to be inside the series, in order and apart.</summary>
    public (int Start, int End)[] WindowRows()
    {
        var rows = new (int Start, int End)[Windows.Length];
        for (var w = 0; w < Windows.Length; w++)
        {
            var start = Array.BinarySearch(Timestamps, Windows[w].Start);
            var end = Array.BinarySearch(Timestamps, Windows[w].End);
            if (start < 0 || end < start || (w > 0 && start <= rows[w - 1].End))
            {
                throw new InvalidDataException($"{Name}: window {Windows[w].Start:u} – {Windows[w].End:u} does not match the series' rows.");
            }

            rows[w] = (start, end);
        }

        return rows;
    }
}

/// <summary>A NAB cost profile: how much a detected window, a false positive and a missed window weigh.</summary>
public sealed record NabProfile(string Name, double TpWeight, double FpWeight, double FnWeight)
{
    /// <summary>NAB's three profiles, with the weights of its <c>config/profiles.json</c>.</summary>
    public static readonly NabProfile[] Published =
    [
        new("standard", 1.0, 0.11, 1.0),
        new("reward_low_FP_rate", 1.0, 0.22, 1.0),
        new("reward_low_FN_rate", 1.0, 0.11, 2.0),
    ];

    /// <summary>Reads NAB's <c>config/profiles.json</c>: <c>{"name": {"CostMatrix": {"tpWeight": …, …}}}</c>.</summary>
    public static NabProfile[] Read(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return [.. json.RootElement.EnumerateObject().Select(p =>
        {
            var costs = p.Value.GetProperty("CostMatrix");
            return new NabProfile(p.Name, costs.GetProperty("tpWeight").GetDouble(), costs.GetProperty("fpWeight").GetDouble(), costs.GetProperty("fnWeight").GetDouble());
        })];
    }
}

/// <summary>
/// Reads a folder in NAB's layout: <c>data/&lt;category&gt;/&lt;file&gt;.csv</c> (<c>timestamp,value</c>),
/// <c>labels/combined_windows.json</c>, and optionally <c>config/profiles.json</c> and a detector's published
/// <c>results/&lt;detector&gt;/&lt;category&gt;/&lt;detector&gt;_&lt;file&gt;.csv</c>.
/// </summary>
public static class NabCorpus
{
    private const string TimestampFormat = "yyyy-MM-dd HH:mm:ss";

    /// <summary>Every series both labelled and present under <c>data/</c>, in the labels' order, with its windows.</summary>
    public static IReadOnlyList<NabFile> Read(string root) => Scan(root).Files;

    /// <summary>
    /// The series both labelled and present, and those only one side has: a checkout of NAB's repository holds all 58,
    /// a folder may hold any subset of its data under the full labels (or data no label names, which cannot be scored).
    /// </summary>
    public static (IReadOnlyList<NabFile> Files, IReadOnlyList<string> LabelledOnly, IReadOnlyList<string> UnlabelledOnly) Scan(string root)
    {
        var labels = Path.Combine(root, "labels", "combined_windows.json");
        if (!File.Exists(labels))
        {
            throw new FileNotFoundException($"'{root}' is not in NAB's layout: {labels} is missing.", labels);
        }

        using var json = JsonDocument.Parse(File.ReadAllText(labels));
        var files = new List<NabFile>();
        var labelledOnly = new List<string>();
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in json.RootElement.EnumerateObject())
        {
            named.Add(entry.Name);
            if (!File.Exists(Path.Combine(root, "data", entry.Name)))
            {
                labelledOnly.Add(entry.Name);
                continue;
            }

            var windows = entry.Value.EnumerateArray()
                .Select(w => new NabWindow(ParseTime(w[0].GetString()!), ParseTime(w[1].GetString()!)))
                .ToArray();
            var (timestamps, values) = ReadSeries(Path.Combine(root, "data", entry.Name));
            var file = new NabFile(entry.Name, timestamps, values, windows);
            file.WindowRows();
            files.Add(file);
        }

        var data = Path.Combine(root, "data");
        var unlabelled = Directory.Exists(data)
            ? Directory.EnumerateFiles(data, "*.csv", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(data, f).Replace(Path.DirectorySeparatorChar, '/'))
                .Where(name => !named.Contains(name))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
        return (files, labelledOnly, unlabelled);
    }

    /// <summary>Profiles from <c>config/profiles.json</c> when the folder has one, NAB's published three otherwise.</summary>
    public static NabProfile[] Profiles(string root)
    {
        var path = Path.Combine(root, "config", "profiles.json");
        return File.Exists(path) ? NabProfile.Read(path) : NabProfile.Published;
    }

    /// <summary>The <c>anomaly_score</c> column of a detector's published results for one series.</summary>
    public static double[] ReadScores(string root, string detector, NabFile file)
    {
        var category = Path.GetDirectoryName(file.Name)!;
        var path = Path.Combine(root, "results", detector, category, $"{detector}_{Path.GetFileName(file.Name)}");
        using var reader = new StreamReader(path);
        var header = reader.ReadLine()?.Split(',') ?? throw new InvalidDataException($"{path} is empty.");
        var column = Array.IndexOf(header, "anomaly_score");
        if (column < 0)
        {
            throw new InvalidDataException($"{path} has no anomaly_score column.");
        }

        var scores = new List<double>(file.Values.Length);
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            scores.Add(double.Parse(line.Split(',')[column], CultureInfo.InvariantCulture));
        }

        return scores.Count == file.Values.Length
            ? [.. scores]
            : throw new InvalidDataException($"{path} has {scores.Count} scores for {file.Values.Length} rows.");
    }

    /// <summary>
    /// The thresholds NAB's optimiser chose for each detector and profile (<c>config/thresholds.json</c>:
    /// <c>{"detector": {"profile": {"threshold": …, "score": …}}}</c>), or null when the folder lacks the file.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? ReadPublishedThresholds(string root) =>
        ReadByDetectorAndProfile(Path.Combine(root, "config", "thresholds.json"), v => v.GetProperty("threshold").GetDouble());

    /// <summary>
    /// NAB's normalised corpus totals for each detector and profile (<c>results/final_results.json</c>:
    /// <c>{"detector": {"profile": …}}</c>), or null when the folder lacks the file.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? ReadFinalResults(string root) =>
        ReadByDetectorAndProfile(Path.Combine(root, "results", "final_results.json"), v => v.GetDouble());

    private static IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? ReadByDetectorAndProfile(
        string path, Func<JsonElement, double> value)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.EnumerateObject().ToDictionary(
            d => d.Name,
            d => (IReadOnlyDictionary<string, double>)d.Value.EnumerateObject().ToDictionary(p => p.Name, p => value(p.Value), StringComparer.Ordinal),
            StringComparer.Ordinal);
    }

    /// <summary>A detector's published per-file scores: <c>&lt;detector&gt;_&lt;profile&gt;_scores.csv</c>.</summary>
    public static IReadOnlyList<PublishedScore> ReadPublishedScores(string root, string detector, string profile)
    {
        var path = Path.Combine(root, "results", detector, $"{detector}_{profile}_scores.csv");
        return [.. File.ReadLines(path).Skip(1)
            .Select(line => line.Split(','))
            .Where(f => f[2].EndsWith(".csv", StringComparison.Ordinal))
            .Select(f => new PublishedScore(f[2], Number(f[3]), Number(f[4]), (int)Number(f[5]), (int)Number(f[6]), (int)Number(f[7]), (int)Number(f[8])))];
    }

    private static (DateTime[] Timestamps, double[] Values) ReadSeries(string path)
    {
        var timestamps = new List<DateTime>();
        var values = new List<double>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var comma = line.IndexOf(',', StringComparison.Ordinal);
            timestamps.Add(ParseTime(line[..comma]));
            values.Add(Number(line[(comma + 1)..]));
        }

        return ([.. timestamps], [.. values]);
    }

    private static DateTime ParseTime(string text) =>
        DateTime.ParseExact(text.Length > TimestampFormat.Length ? text[..TimestampFormat.Length] : text, TimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);

    private static double Number(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}

/// <summary>One row of a published <c>_scores.csv</c>: the file, the threshold used and what it scored.</summary>
public sealed record PublishedScore(string File, double Threshold, double Score, int Tp, int Tn, int Fp, int Fn);
