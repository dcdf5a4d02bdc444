using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json;
using DePIN.Bench.Chaos;
using DePIN.Bench.Crypto;
using DePIN.Bench.Datasets;
using DePIN.Bench.Economy;
using DePIN.Bench.Inference;
using DePIN.Bench.Ingest;
using DePIN.Bench.Maintenance;
using DePIN.Bench.Scheduling;
using DePIN.Bench.Training;
using DePIN.Core.Maintenance;
using DePIN.Core.Training;
using DePIN.Simulation.Economy;
using DePIN.Simulation.Inference;
using DePIN.Testing.Chaos;

namespace DePIN.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/DePIN.Bench -- SCENARIO [--option value]...</c>. Progress goes to stderr;
/// the result is one JSON object, the last line on stdout.
/// </summary>
public static class BenchCommand
{
    private const string Usage = """
        usage: DePIN.Bench ingest [--nodes 1000] [--seconds 30] [--connections 64] [--postgres CONNECTION_STRING] [--rate BATCHES_PER_S] [--window 300] [--relay 1]
               DePIN.Bench crypto [--iterations 20000]
               DePIN.Bench dataset [--contributors 1000] [--seconds 30] [--concurrency 256] [--postgres CONNECTION_STRING]
               DePIN.Bench placement [--nodes 10000] [--seconds 20] [--concurrency 32]
               DePIN.Bench schedule-sim [--nodes 2000] [--days 7] [--seed 1] [--load 0.75 | --loads 0.6,0.75,0.9] [--warmup-days 3] [--pass-seconds 1]
               DePIN.Bench inference [--nodes 500] [--requests 100000] [--seed 1]
               DePIN.Bench training [--workers 8] [--inner-steps 500] [--target 0.87] [--seed 1] [--max-steps 20000] [--churn 0.3]
               DePIN.Bench nab --data NAB_FOLDER [--levels 7] [--scales 4] [--rate-blocks 64] [--cv categories] [--choose-on NAB_FOLDER]
               DePIN.Bench ledger [--seconds 20] [--concurrency 512] [--accounts 10000] [--postgres CONNECTION_STRING]
               DePIN.Bench failure-sim [--seed 1] [--nodes 500] [--days 5] [--warmup-days 2] [--mtbf-days 10] [--horizon-hours 6]
               DePIN.Bench economy-sim [--seed 1] [--nodes 1000] [--days 7] [--load 0.7] [--provider-cost 1]
               DePIN.Bench chaos [--silos 3] [--minutes 10] [--seed 1] [--nodes 48]
        """;

    public static async Task<int> Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.Error.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        try
        {
            var options = Options.Parse(args[1..]);
            Func<Task<JsonObject>> scenario = args[0] switch
            {
                "ingest" => IngestScenario.Prepare(new IngestSettings(
                    Nodes: options.Int("nodes", 1000),
                    Seconds: options.Int("seconds", 30),
                    Connections: options.Int("connections", 64),
                    Postgres: options.String("postgres"),
                    Rate: options.Double("rate", 0),
                    Window: options.Int("window", 300),
                    Relay: options.Int("relay", 1)), Console.Error),
                "crypto" => CryptoScenario.Prepare(options.Int("iterations", 20_000)),
                "dataset" => DatasetScenario.Prepare(new DatasetSettings(
                    Contributors: options.Int("contributors", 1000),
                    Seconds: options.Int("seconds", 30),
                    Concurrency: options.Int("concurrency", 256),
                    Postgres: options.String("postgres")), Console.Error),
                "placement" => PlacementScenario.Prepare(new PlacementSettings(
                    Nodes: options.Int("nodes", 10_000),
                    Seconds: options.Int("seconds", 20),
                    Concurrency: options.Int("concurrency", 32)), Console.Error),
                "schedule-sim" => ScheduleSimScenario.Prepare(new ScheduleSimSettings(
                    Nodes: options.Int("nodes", 2000),
                    Days: options.Int("days", 7),
                    Seed: options.Int("seed", 1),
                    Loads: options.Fractions("loads") ?? [options.Fraction("load", 0.75)],
                    WarmupDays: options.Int("warmup-days", 3),
                    PassSeconds: options.Int("pass-seconds", 1)), Console.Error),
                "inference" => InferenceScenario.Prepare(new EdgeSettings(
                    Nodes: options.Int("nodes", 500),
                    Requests: options.Int("requests", 100_000),
                    Seed: options.Int("seed", 1)), Console.Error),
                "training" => TrainingScenario.Prepare(new TrainingSettings(
                    Workers: options.Int("workers", 8),
                    InnerSteps: options.Int("inner-steps", TrainingDefaults.InnerSteps),
                    Target: options.Fraction("target", 0.87),
                    Seed: options.Int("seed", 1),
                    MaxSteps: options.Int("max-steps", 20_000),
                    Churn: options.Fraction("churn", 0.3)), Console.Error),
                "nab" => NabScenario.Prepare(
                    options.String("data") ?? throw new ArgumentException("nab needs --data, a folder in NAB's layout (data/ and labels/combined_windows.json)."),
                    new NoveltyOptions
                    {
                        Levels = options.Int("levels", new NoveltyOptions().Levels),
                        Scales = options.Int("scales", new NoveltyOptions().Scales),
                        RateBlocks = options.Int("rate-blocks", new NoveltyOptions().RateBlocks, least: 0),
                    },
                    options.String("cv") switch
                    {
                        null => false,
                        "categories" => true,
                        var other => throw new ArgumentException($"--cv takes 'categories' (leave one NAB category out), not '{other}'."),
                    },
                    options.String("choose-on"),
                    Console.Error),
                "ledger" => LedgerScenario.Prepare(new LedgerSettings(
                    Seconds: options.Int("seconds", 20),
                    Concurrency: options.Int("concurrency", 512),
                    Accounts: options.Int("accounts", 10_000),
                    Postgres: options.String("postgres")), Console.Error),
                "failure-sim" => Synchronous(FailureSimScenario.Run, new FailureSimSettings(
                    Nodes: options.Int("nodes", 500),
                    Days: options.Int("days", 5),
                    WarmupDays: options.Int("warmup-days", 2),
                    Seed: options.Int("seed", 1),
                    MeanDaysToFailure: options.Int("mtbf-days", 10),
                    Horizon: TimeSpan.FromHours(options.Int("horizon-hours", 6))), Console.Error),
                "economy-sim" => Synchronous(EconomySimScenario.Run, new EconomySimSettings(
                    Seed: options.Int("seed", 1),
                    Nodes: options.Int("nodes", 1000),
                    Days: options.Int("days", 7),
                    Load: options.Fraction("load", new MarketModel().Load),
                    ProviderCost: options.Double("provider-cost", new MarketModel().ProviderCostMedian)), Console.Error),
                "chaos" => ChaosScenario.Prepare(new ChaosSettings(
                    Silos: options.Int("silos", 3),
                    Load: TimeSpan.FromMinutes(options.Double("minutes", 10)),
                    Seed: options.Int("seed", 1),
                    Nodes: options.Int("nodes", 48)), Console.Error),
                _ => throw new ArgumentException($"Unknown scenario '{args[0]}'."),
            };
            options.EnsureAllUsed();
            var result = await scenario();
            Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            return 0;
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    private static Func<Task<JsonObject>> Synchronous<TSettings>(Func<TSettings, TextWriter, JsonObject> run, TSettings settings, TextWriter log) =>
        () => Task.FromResult(run(settings, log));

    private sealed class Options
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
        private readonly HashSet<string> _used = [];

        public static Options Parse(string[] args)
        {
            var options = new Options();
            for (var i = 0; i < args.Length; i += 2)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                {
                    throw new ArgumentException($"Expected '--name value' pairs, got '{args[i]}'.");
                }

                options._values[args[i][2..]] = args[i + 1];
            }

            return options;
        }

        public int Int(string name, int fallback, int least = 1)
        {
            _used.Add(name);
            if (!_values.TryGetValue(name, out var text))
            {
                return fallback;
            }

            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= least
                ? value
                : throw new ArgumentException($"--{name} must be an integer of at least {least}, not '{text}'.");
        }

        public double Fraction(string name, double fallback) => Number(name, fallback, 1);

        public double Double(string name, double fallback) => Number(name, fallback, double.MaxValue);

        /// <summary>A comma-separated list of fractions in (0, 1]; null when the option is absent.</summary>
        public double[]? Fractions(string name)
        {
            _used.Add(name);
            if (!_values.TryGetValue(name, out var text))
            {
                return null;
            }

            var parts = text.Split(',', StringSplitOptions.TrimEntries);
            var values = new double[parts.Length];
            for (var i = 0; i < parts.Length; i++)
            {
                if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || values[i] <= 0 || values[i] > 1)
                {
                    throw new ArgumentException($"--{name} must be numbers in (0, 1] separated by commas, not '{text}'.");
                }
            }

            return values;
        }

        private double Number(string name, double fallback, double most)
        {
            _used.Add(name);
            if (!_values.TryGetValue(name, out var text))
            {
                return fallback;
            }

            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0 && value <= most
                ? value
                : throw new ArgumentException($"--{name} must be a number in (0, {(most == 1 ? "1" : "∞")}], not '{text}'.");
        }

        public string? String(string name)
        {
            _used.Add(name);
            return _values.GetValueOrDefault(name);
        }

        public void EnsureAllUsed()
        {
            var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
            if (unknown.Count > 0)
            {
                throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(k => "--" + k))}.");
            }
        }
    }
}
