using System.ComponentModel.DataAnnotations;

namespace DePIN.NodeAgent;

/// <summary>The agent's settings: configuration section <c>Agent</c>, or the command-line switches below.</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>Command-line switches and the settings they set.</summary>
    public static IDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>
    {
        ["--api"] = "Agent:Api",
        ["--simulate"] = "Agent:Simulate",
        ["--key-file"] = "Agent:KeyFile",
        ["--key-dir"] = "Agent:KeyDirectory",
        ["--interval"] = "Agent:IntervalSeconds",
        ["--region"] = "Agent:Region",
        ["--latitude"] = "Agent:Latitude",
        ["--longitude"] = "Agent:Longitude",
        ["--bandwidth-mbps"] = "Agent:BandwidthMbps",
        ["--seed"] = "Agent:Seed",
        ["--max-parallel-work"] = "Agent:MaxParallelWork",
        ["--weather"] = "Agent:Weather",
        ["--weather-dataset"] = "Agent:WeatherDataset",
        ["--weather-rate"] = "Agent:WeatherRate",
    };

    /// <summary>Base URL of the DePIN HTTP API, e.g. http://localhost:5080.</summary>
    [Required(ErrorMessage = "--api is required: the base URL of the DePIN HTTP API, e.g. --api http://localhost:5080")]
    public Uri? Api { get; set; }

    /// <summary>When above 0, simulate this many nodes instead of reporting the real machine.</summary>
    [Range(0, 100_000)]
    public int Simulate { get; set; }

    /// <summary>The real node's private key file; created (mode 0600) on first start.</summary>
    public string KeyFile { get; set; } = Path.Combine(DefaultHome(), "node.key");

    /// <summary>Where simulated nodes keep their keys, one file each.</summary>
    public string KeyDirectory { get; set; } = Path.Combine(DefaultHome(), "fleet");

    /// <summary>Sampling and reporting interval, in seconds.</summary>
    [Range(0.1, 3600)]
    public double IntervalSeconds { get; set; } = 5;

    public TimeSpan Interval => TimeSpan.FromSeconds(IntervalSeconds);

    /// <summary>The real node's region code.</summary>
    [RegularExpression("^[a-z0-9]+(-[a-z0-9]+)*$", ErrorMessage = "--region must be lower-case letters, digits and '-'")]
    public string Region { get; set; } = "local";

    [Range(-90.0, 90.0)]
    public double Latitude { get; set; }

    [Range(-180.0, 180.0)]
    public double Longitude { get; set; }

    /// <summary>Declared bandwidth; when unset, the link speed of the busiest interface, if the kernel tells it.</summary>
    public double? BandwidthMbps { get; set; }

    /// <summary>
    /// At most this many replica slots compute at once in this process, over all the nodes it runs; the others wait
    /// their turn between chunks. Defaults to the number of cores.
    /// </summary>
    [Range(1, 1024)]
    public int MaxParallelWork { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// A daily weather archive (the shape of <c>data/weather/weather.csv</c>). With it, the simulated fleet gains one
    /// weather-station node per place in it, each contributing its place's readings to <see cref="WeatherDataset"/>.
    /// </summary>
    public string? Weather { get; set; }

    /// <summary>The dataset the weather stations contribute to.</summary>
    [RegularExpression("^[a-z0-9][a-z0-9._-]{0,63}$", ErrorMessage = "--weather-dataset must be a dataset name: lower-case letters, digits, '.', '_' and '-'")]
    public string WeatherDataset { get; set; } = "weather";

    /// <summary>Readings each weather station contributes per second, at most.</summary>
    [Range(0.01, 100_000)]
    public double WeatherRate { get; set; } = 20;

    /// <summary>Seed of the simulated fleet's telemetry.</summary>
    public int Seed { get; set; } = 42;

    private static string DefaultHome() =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".depin");
}
