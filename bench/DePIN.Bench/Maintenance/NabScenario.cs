using System.Diagnostics;
using System.Text.Json.Nodes;
using DePIN.Core.Maintenance;
using DePIN.Simulation.Nab;

namespace DePIN.Bench.Maintenance;

/// <summary>
/// Runs the platform's anomaly detector over every series of a folder in NAB's layout, one value at a time as it
/// would see telemetry, and scores it with <see cref="NabEvaluation"/> under every profile. Published detectors whose
/// raw output sits under <c>results/</c> are scored on the same files in the same run, for comparison.
/// </summary>
public static class NabScenario
{
    public static Func<Task<JsonObject>> Prepare(string data, NoveltyOptions detector, TextWriter log) => () => Task.FromResult(Run(data, detector, log));

    private static JsonObject Run(string data, NoveltyOptions detector, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var files = NabCorpus.Read(data);
        var profiles = NabCorpus.Profiles(data);
        var rows = files.Sum(f => f.Values.Length);
        log.WriteLine($"nab: {files.Count} files, {rows:N0} rows, {files.Sum(f => f.Windows.Length)} windows from {data}");

        var detect = Stopwatch.StartNew();
        var scores = files.Select(f => Detect(f, new NoveltyDetector(Options(f, detector)))).ToArray();
        detect.Stop();

        var json = new JsonObject { ["scenario"] = "nab", ["files"] = files.Count };
        var reports = profiles.Select(p => NabEvaluation.Evaluate(files, scores, p)).ToArray();
        foreach (var report in reports)
        {
            json[report.Profile] = Math.Round(report.Normalised, 2);
            log.WriteLine($"  {report.Profile}: {report.Normalised:0.00} (threshold {report.Threshold:0.####}, raw {report.Raw:0.###}, null {report.Null:0.###}, perfect {report.Perfect})");
        }

        var standard = reports.First(r => r.Profile == "standard");
        foreach (var (file, result) in files.Zip(standard.Files))
        {
            log.WriteLine($"    {file.Name,-60} {result.Score,8:0.000}  tp {result.Tp} fp {result.Fp} windows {file.Windows.Length}");
        }

        var baselines = new JsonObject();
        var results = Path.Combine(data, "results");
        if (Directory.Exists(results))
        {
            foreach (var name in Directory.GetDirectories(results).Select(Path.GetFileName).Order(StringComparer.Ordinal))
            {
                var published = files.Select(f => NabCorpus.ReadScores(data, name!, f)).ToArray();
                baselines[name!] = new JsonObject(profiles.Select(p =>
                    KeyValuePair.Create<string, JsonNode?>(p.Name, Math.Round(NabEvaluation.Evaluate(files, published, p).Normalised, 2))));
                log.WriteLine($"  published {name} on the same files: {baselines[name!]!.ToJsonString()}");
            }
        }

        json["detector"] = nameof(NoveltyDetector);
        json["levels"] = detector.Levels;
        json["scales"] = detector.Scales;
        json["rows"] = rows;
        json["rows_per_second"] = Math.Round(rows / detect.Elapsed.TotalSeconds);
        json["published_on_same_files"] = baselines;
        json["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        return json;
    }

    /// <summary>NAB tells each detector its file's probationary length; the detector learns over it and rests a fifth of it.</summary>
    private static NoveltyOptions Options(NabFile file, NoveltyOptions detector)
    {
        var probation = new NabScorer(NabProfile.Published[0]).ProbationaryRows(file.Values.Length);
        return detector.ForProbation(probation);
    }

    private static double[] Detect(NabFile file, IAnomalyDetector detector)
    {
        var scores = new double[file.Values.Length];
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = detector.Score(file.Values[i]);
        }

        return scores;
    }
}
