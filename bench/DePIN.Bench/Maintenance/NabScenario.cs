using System.Diagnostics;
using System.Text.Json.Nodes;
using DePIN.Core.Maintenance;
using DePIN.Simulation.Nab;

namespace DePIN.Bench.Maintenance;

/// <summary>
/// Runs the platform's anomaly detector over every series of a folder in NAB's layout, one value at a time as it
/// would see telemetry, and scores it with <see cref="NabEvaluation"/> under every profile, on the whole folder and on
/// each category alone (at the folder's thresholds). Published detectors whose raw output sits under <c>results/</c> are scored on the same files in
/// the same run, for comparison. With <c>--cv categories</c> it also chooses the detector's settings by leaving one
/// category out at a time: settings and threshold are chosen on the other categories, then the left-out one is scored
/// with them, so its score is that of a detector tuned without it. With <c>--choose-on</c> another folder in NAB's
/// layout (NAB's whole corpus, say) serves to choose the settings and threshold on its files that this folder does
/// not hold, and this folder's files are scored with them: a detector tuned without any of them.
/// </summary>
public static class NabScenario
{
    public static Func<Task<JsonObject>> Prepare(string data, NoveltyOptions detector, bool crossValidate, string? chooseOn, TextWriter log) =>
        () => Task.FromResult(Run(data, detector, crossValidate, chooseOn, log));

    private static JsonObject Run(string data, NoveltyOptions detector, bool crossValidate, string? chooseOn, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var (files, labelledOnly, unlabelled) = NabCorpus.Scan(data);
        var profiles = NabCorpus.Profiles(data);
        var rows = files.Sum(f => f.Values.Length);
        log.WriteLine($"nab: {files.Count} files, {rows:N0} rows, {files.Sum(f => f.Windows.Length)} windows from {data}" +
            $" ({labelledOnly.Count} labelled files not in data/, {unlabelled.Count} data files without labels: not scored)");

        var detect = Stopwatch.StartNew();
        var scores = Detect(files, detector);
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

        var categories = ByCategory(files, scores, profiles, reports);
        json["categories"] = categories;
        log.WriteLine($"  by category (at the folder's thresholds): {categories.ToJsonString()}");

        var baselines = new JsonObject();
        var results = Path.Combine(data, "results");
        var nabThresholds = NabCorpus.ReadPublishedThresholds(data);
        var finalResults = NabCorpus.ReadFinalResults(data);
        var (reproduced, compared) = (0, 0);
        if (Directory.Exists(results))
        {
            foreach (var name in Directory.GetDirectories(results).Select(Path.GetFileName).Order(StringComparer.Ordinal))
            {
                var published = files.Select(f => NabCorpus.ReadScores(data, name!, f)).ToArray();
                var theirs = profiles.Select(p => NabEvaluation.Evaluate(files, published, p)).ToArray();
                var baseline = new JsonObject(theirs.Select(r => KeyValuePair.Create<string, JsonNode?>(r.Profile, Math.Round(r.Normalised, 2))))
                {
                    ["categories"] = ByCategory(files, published, profiles, theirs),
                };

                // The sweep above finds each detector's best threshold; some of NAB's were chosen by its older local
                // search. At the thresholds NAB chose, the totals must be NAB's own when these are its files.
                if (nabThresholds?.GetValueOrDefault(name!) is { } chosen)
                {
                    var atTheirs = new JsonObject();
                    foreach (var profile in profiles.Where(p => chosen.ContainsKey(p.Name)))
                    {
                        var score = NabEvaluation.Evaluate(files, published, profile, chosen[profile.Name]).Normalised;
                        atTheirs[profile.Name] = Math.Round(score, 2);
                        if (finalResults?.GetValueOrDefault(name!)?.GetValueOrDefault(profile.Name) is { } total)
                        {
                            compared++;
                            reproduced += Math.Round(score, 2) == Math.Round(total, 2) ? 1 : 0;
                        }
                    }

                    baseline["at_nab_thresholds"] = atTheirs;
                }

                baselines[name!] = baseline;
                log.WriteLine($"  published {name} on the same files: {baseline.ToJsonString()}");
            }
        }

        json["detector"] = nameof(NoveltyDetector);
        json["levels"] = detector.Levels;
        json["scales"] = detector.Scales;
        json["rate_blocks"] = detector.RateBlocks;
        json["memory_bytes_per_metric"] = MemoryPerMetric(detector);
        json["rows"] = rows;
        json["rows_per_second"] = Math.Round(rows / detect.Elapsed.TotalSeconds);
        json["published_on_same_files"] = baselines;
        if (compared > 0)
        {
            json["final_results_reproduced"] = $"{reproduced} of {compared}";
        }

        // Settings are chosen by the standard profile, as NAB ranks detectors.
        var standardProfile = profiles.First(p => p.Name == "standard");
        if (crossValidate)
        {
            json["cv"] = CrossValidate(files, standardProfile, log);
        }

        if (chooseOn is not null)
        {
            json["chosen_elsewhere"] = ChooseElsewhere(files, chooseOn, standardProfile, log);
        }

        json["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        return json;
    }

    /// <summary>Each category's scores under every profile, at the thresholds chosen on the whole folder.</summary>
    private static JsonObject ByCategory(IReadOnlyList<NabFile> files, double[][] scores, IReadOnlyList<NabProfile> profiles, NabProfileReport[] reports)
    {
        var categories = new JsonObject();
        foreach (var category in Categories(files))
        {
            var (inCategory, theirScores) = Subset(files, scores, f => f.Category == category);
            categories[category] = new JsonObject(profiles.Zip(reports, (p, r) => KeyValuePair.Create(
                p.Name, Score(NabEvaluation.Evaluate(inCategory, theirScores, p, r.Threshold)))))
            {
                ["files"] = inCategory.Length,
            };
        }

        return categories;
    }

    /// <summary>
    /// Leave one category out: for each category, the grid's settings that score best (standard profile) on the other
    /// categories, with the threshold that is best there, score the left-out category. The pooled score adds the
    /// left-out categories' raw scores and normalises them as NAB normalises the whole folder.
    /// </summary>
    private static JsonObject CrossValidate(IReadOnlyList<NabFile> files, NabProfile profile, TextWriter log)
    {
        var categories = Categories(files);
        if (categories.Count < 2)
        {
            throw new ArgumentException($"--cv categories needs files of two categories or more; the folder has {categories.Count}.");
        }

        // Which files each fold trains and tests on, and their null scores: the same for every setting.
        var folds = categories.Select(c => (
            LeftOut: c,
            Train: Indices(files, f => f.Category != c),
            Test: Indices(files, f => f.Category == c))).ToArray();
        var nulls = folds.Select(f => (
            Train: NabEvaluation.Null(Pick(files, f.Train), profile),
            Test: NabEvaluation.Null(Pick(files, f.Test), profile))).ToArray();
        var allNull = NabEvaluation.Null(files, profile);

        // Per setting: its score on all files, and per fold its score on the others and the left-out one's at their threshold.
        var grid = Grid();
        var trained = new (double Train, NabProfileReport Test)[grid.Count][];
        var whole = new double[grid.Count];
        for (var g = 0; g < grid.Count; g++)
        {
            var scores = Detect(files, grid[g]);
            whole[g] = NabEvaluation.Evaluate(files, scores, profile, nullScore: allNull).Normalised;
            trained[g] = new (double, NabProfileReport)[folds.Length];
            for (var k = 0; k < folds.Length; k++)
            {
                var (train, test) = (folds[k].Train, folds[k].Test);
                var onTrain = NabEvaluation.Evaluate(Pick(files, train), Pick(scores, train), profile, nullScore: nulls[k].Train);
                trained[g][k] = (onTrain.Normalised, NabEvaluation.Evaluate(Pick(files, test), Pick(scores, test), profile, onTrain.Threshold, nulls[k].Test));
            }

            log.WriteLine($"  cv {g + 1}/{grid.Count} {Describe(grid[g])}: all files {whole[g]:0.00}");
        }

        var foldsJson = new JsonArray();
        var pooledRaw = 0.0;
        for (var k = 0; k < folds.Length; k++)
        {
            var chosen = Enumerable.Range(0, grid.Count).MaxBy(g => trained[g][k].Train);
            var test = trained[chosen][k].Test;
            pooledRaw += test.Raw;
            foldsJson.Add(new JsonObject
            {
                ["left_out"] = folds[k].LeftOut,
                ["files"] = folds[k].Test.Length,
                ["chosen"] = Describe(grid[chosen]),
                ["others_standard"] = Math.Round(trained[chosen][k].Train, 2),
                ["left_out_standard"] = Score(test),
            });
            log.WriteLine($"  left out {folds[k].LeftOut}: chose {Describe(grid[chosen])} ({trained[chosen][k].Train:0.00} on the others), scores {Score(test)!.ToJsonString()}");
        }

        var perfect = files.Sum(f => f.Windows.Length) * profile.TpWeight;
        var best = Enumerable.Range(0, grid.Count).MaxBy(g => whole[g]);
        return new JsonObject
        {
            ["grid"] = grid.Count,
            ["folds"] = foldsJson,
            ["left_out_pooled_standard"] = Math.Round(100.0 * (pooledRaw - allNull) / (perfect - allNull), 2),
            ["best_on_all_files"] = new JsonObject { ["chosen"] = Describe(grid[best]), ["standard"] = Math.Round(whole[best], 2) },
        };
    }

    /// <summary>
    /// The grid's settings that score best (standard profile) on the files of <paramref name="folder"/> that are not
    /// among <paramref name="files"/>, with the threshold that is best there, score <paramref name="files"/>.
    /// </summary>
    private static JsonObject ChooseElsewhere(IReadOnlyList<NabFile> files, string folder, NabProfile profile, TextWriter log)
    {
        var held = files.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var others = NabCorpus.Scan(folder).Files.Where(f => !held.Contains(f.Name)).ToArray();
        if (others.Length == 0 || others.All(f => f.Windows.Length == 0))
        {
            throw new ArgumentException($"--choose-on {folder} holds no labelled file with anomaly windows beside the {files.Count} scored.");
        }

        var othersNull = NabEvaluation.Null(others, profile);
        var grid = Grid();
        var (best, there) = grid
            .Select(options => (Options: options, Report: NabEvaluation.Evaluate(others, Detect(others, options), profile, nullScore: othersNull)))
            .MaxBy(c => c.Report.Normalised);
        var here = NabEvaluation.Evaluate(files, Detect(files, best), profile, there.Threshold);
        log.WriteLine($"  chosen on {others.Length} files of {folder}: {Describe(best)} ({there.Normalised:0.00} there), scores {here.Normalised:0.00} here");
        return new JsonObject
        {
            ["folder_files"] = others.Length,
            ["grid"] = grid.Count,
            ["chosen"] = Describe(best),
            ["standard_there"] = Math.Round(there.Normalised, 2),
            ["standard"] = Math.Round(here.Normalised, 2),
        };
    }

    /// <summary>The settings cross-validation chooses among: around the defaults (levels, order, scale weight, alarm), each knob a step either way.</summary>
    private static List<NoveltyOptions> Grid()
    {
        var defaults = new NoveltyOptions();
        return [.. from levels in new[] { 5, 7, 9 }
                   from order in new[] { 2, 3, 4 }
                   from scaleWeight in new[] { 0.75, 1.0, 1.25 }
                   from alarm in new[] { 0.2, 0.25, 0.3 }
                   select defaults with { Levels = levels, Order = order, ScaleWeight = scaleWeight, Alarm = alarm }];
    }

    /// <summary>
    /// The normalised score; for files without anomaly windows (NAB's artificialNoAnomaly), where a perfect detector
    /// and the null detector both score 0 and nothing normalises, what a detector can only lose there: its false
    /// positives and their raw cost.
    /// </summary>
    private static JsonNode? Score(NabProfileReport report) =>
        report.Perfect > report.Null
            ? Math.Round(report.Normalised, 2)
            : new JsonObject { ["false_positives"] = report.Files.Sum(f => f.Fp), ["raw"] = Math.Round(report.Raw, 3) };

    private static string Describe(NoveltyOptions o) =>
        FormattableString.Invariant($"levels {o.Levels} order {o.Order} scales {o.Scales} scale_weight {o.ScaleWeight} alarm {o.Alarm}");

    private static List<string> Categories(IReadOnlyList<NabFile> files) => [.. files.Select(f => f.Category).Distinct().Order(StringComparer.Ordinal)];

    private static (NabFile[] Files, double[][] Scores) Subset(IReadOnlyList<NabFile> files, double[][] scores, Func<NabFile, bool> keep)
    {
        var kept = Indices(files, keep);
        return (Pick(files, kept), Pick(scores, kept));
    }

    private static int[] Indices(IReadOnlyList<NabFile> files, Func<NabFile, bool> keep) =>
        [.. Enumerable.Range(0, files.Count).Where(i => keep(files[i]))];

    private static T[] Pick<T>(IReadOnlyList<T> items, int[] indices) => [.. indices.Select(i => items[i])];

    /// <summary>What one metric's detector holds: the bytes its construction allocates (its state is fixed from then on).</summary>
    private static long MemoryPerMetric(NoveltyOptions options)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var detector = new NoveltyDetector(options);
        var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(detector);
        return bytes;
    }

    private static double[][] Detect(IReadOnlyList<NabFile> files, NoveltyOptions detector) =>
        [.. files.Select(f => Detect(f, new NoveltyDetector(Options(f, detector))))];

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
