using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Makes <c>/metrics</c> follow Prometheus' naming conventions, so that <c>promtool check metrics</c> is clean on it
/// (PrometheusTests checks every silo's page): base units, snake_case labels, a help text on every family, no
/// <c>_count</c> suffix on a gauge. DePIN's own instruments follow them already; these views mend the libraries':
/// <list type="bullet">
/// <item>Orleans' histograms in milliseconds are exported in seconds, under the same names, from
/// <see cref="OrleansDurationsInSeconds"/>; its memory gauges in megabytes are dropped (the runtime's and the
/// process' instruments give memory in bytes);</item>
/// <item>Orleans labels many instruments in camelCase (<c>Direction</c>, <c>MessageDirection</c>, <c>QueueId</c>, …) or
/// by silo address (<c>silo</c>, <c>Destination</c>: a new series at every restart): its instruments keep only the
/// snake_case labels in <see cref="OrleansLabels"/> and are summed over the others;</item>
/// <item>Orleans' instruments without a description get one that names the library and the instrument;</item>
/// <item>the runtime's gauges <c>dotnet.assembly.count</c>, <c>dotnet.process.cpu.count</c> and
/// <c>dotnet.timer.count</c> are exported as <c>dotnet_assemblies</c>, <c>dotnet_process_cpus</c> and
/// <c>dotnet_timers</c>.</item>
/// </list>
/// </summary>
public static class PrometheusConventions
{
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>The labels of Orleans' instruments that are exported (the snake_case ones of bounded cardinality).</summary>
    public static readonly string[] OrleansLabels = ["grain_type", "status", "directory", "locator", "name", "type"];

    private static readonly Dictionary<string, string> RuntimeRenames = new(StringComparer.Ordinal)
    {
        ["dotnet.assembly.count"] = "dotnet.assemblies",
        ["dotnet.process.cpu.count"] = "dotnet.process.cpus",
        ["dotnet.timer.count"] = "dotnet.timers",
    };

    /// <summary>Adds Orleans' meter, with the views above, and the meter its durations are exported in seconds from.</summary>
    public static MeterProviderBuilder AddOrleansAndRuntimeByPrometheusConventions(this MeterProviderBuilder metrics)
    {
        OrleansDurationsInSeconds.Start();
        return metrics
            .AddMeter(OrleansMeter, OrleansDurationsInSeconds.MeterName)
            .AddView(View);
    }

    private static MetricStreamConfiguration? View(Instrument instrument)
    {
        if (instrument.Meter.Name == "System.Runtime")
        {
            return RuntimeRenames.TryGetValue(instrument.Name, out var renamed) ? new MetricStreamConfiguration { Name = renamed } : null;
        }

        if (instrument.Meter.Name is not (OrleansMeter or OrleansDurationsInSeconds.MeterName))
        {
            return null;
        }

        if (OrleansDurationsInSeconds.Converts(instrument) || instrument.Unit == "MB")
        {
            return MetricStreamConfiguration.Drop;
        }

        return new MetricStreamConfiguration { TagKeys = OrleansLabels, Description = Described(instrument, instrument.Unit) };
    }

    /// <summary>The instrument's description, or one naming the library and the instrument when it has none.</summary>
    internal static string Described(Instrument instrument, string? unit) => string.IsNullOrWhiteSpace(instrument.Description)
        ? $"Orleans' {instrument.Name}" + (string.IsNullOrEmpty(unit) ? "" : $", in {unit}") + " (Orleans gives no description)."
        : instrument.Description;
}

/// <summary>
/// Orleans records some durations (grain call latency, activation latency, directory registrations) in milliseconds;
/// Prometheus' base unit is the second. These histograms are listened to and recorded again, divided by 1,000, on the
/// meter <see cref="MeterName"/> under the same instrument names in seconds; <see cref="PrometheusConventions"/> drops
/// the originals. One listener serves the process, as Orleans' meter is one per process.
/// </summary>
public static class OrleansDurationsInSeconds
{
    public const string MeterName = "DePIN.Orleans";

    private static readonly Meter Meter = new(MeterName);
    private static readonly ConcurrentDictionary<Instrument, Histogram<double>> Mirrors = new();
    private static readonly Lazy<MeterListener> Listener = new(Listen);

    private static readonly double[] Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    /// <summary>Whether <paramref name="instrument"/> is one of Orleans' millisecond histograms.</summary>
    public static bool Converts(Instrument instrument) =>
        instrument.Meter.Name == PrometheusConventions.OrleansMeter && instrument.Unit == "ms" &&
        instrument.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(Histogram<>);

    /// <summary>Starts listening, once a process.</summary>
    public static void Start() => _ = Listener.Value;

    private static MeterListener Listen()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (Converts(instrument))
                {
                    Mirrors.GetOrAdd(instrument, i => Meter.CreateHistogram(i.Name, unit: "s", description: PrometheusConventions.Described(i, "s"),
                        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets }));
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Mirrors[instrument].Record(value / 1000, tags));
        listener.SetMeasurementEventCallback<float>((instrument, value, tags, _) => Mirrors[instrument].Record(value / 1000.0, tags));
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Mirrors[instrument].Record(value / 1000.0, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Mirrors[instrument].Record(value / 1000.0, tags));
        listener.Start();
        return listener;
    }
}
