using System.Globalization;
using DePIN.Core.Datasets;

namespace DePIN.Simulation.Weather;

/// <summary>One day's observations at one place: its date and its measured fields.</summary>
public sealed record WeatherReading(DateOnly Date, IReadOnlyDictionary<string, FieldValue> Values);

/// <summary>A weather station: where it stands and the readings it will contribute, oldest first.</summary>
public sealed record WeatherStation(string Location, string Region, double Latitude, double Longitude, IReadOnlyList<WeatherReading> Readings)
{
    /// <summary>Device type in each record's provenance.</summary>
    public const string Sensor = "weather-station/noaa-daily-summary";

    /// <summary>A name fit for a file or a log line: <c>seattle</c>, <c>new-york</c>.</summary>
    public string Slug => Location.ToLowerInvariant().Replace(' ', '-');

    /// <summary>The record a reading becomes: sampled at 00:00 UTC of its date, at the station's coordinates.</summary>
    public Contribution Record(WeatherReading reading, string dataset, string nodeId, string agentVersion) =>
        new(dataset, nodeId, Sensor, new DateTimeOffset(reading.Date, TimeOnly.MinValue, TimeSpan.Zero), Latitude, Longitude, agentVersion, reading.Values);
}

/// <summary>
/// Reads a daily weather archive in the shape of vega-datasets' <c>weather.csv</c>: a header
/// <c>location,date,…</c>, then one row per place and day. Every column after the date becomes a field, a number when
/// it parses as one and text otherwise. Each place becomes one station at its city's coordinates.
/// </summary>
public static class WeatherArchive
{
    /// <summary>The places the archive may name, with the region and coordinates their stations report.</summary>
    public static IReadOnlyDictionary<string, (string Region, double Latitude, double Longitude)> Places { get; } =
        new Dictionary<string, (string, double, double)>(StringComparer.Ordinal)
        {
            ["Seattle"] = ("us-west", 47.6062, -122.3321),
            ["New York"] = ("us-east", 40.7128, -74.0060),
        };

    /// <summary>The stations of the archive at <paramref name="path"/>, in order of first appearance.</summary>
    /// <exception cref="FormatException">A row does not fit, naming the line and why.</exception>
    public static IReadOnlyList<WeatherStation> Read(string path) => Parse(File.ReadLines(path), path);

    /// <summary>The stations of an archive's <paramref name="text"/> lines; <paramref name="path"/> names it in errors.</summary>
    /// <exception cref="FormatException">A row does not fit, naming the line and why.</exception>
    public static IReadOnlyList<WeatherStation> Parse(IEnumerable<string> text, string path)
    {
        using var lines = text.GetEnumerator();
        if (!lines.MoveNext() || lines.Current.Split(',') is not ["location", "date", _, ..] header)
        {
            throw new FormatException($"{path}: the first line must be a header starting 'location,date,' followed by the fields.");
        }

        var fields = header[2..];
        var stations = new Dictionary<string, List<WeatherReading>>(StringComparer.Ordinal);
        for (var line = 2; lines.MoveNext(); line++)
        {
            if (lines.Current.Length == 0)
            {
                continue;
            }

            var cells = lines.Current.Split(',');
            if (cells.Length != header.Length)
            {
                throw new FormatException($"{path}:{line}: {cells.Length} cells where the header has {header.Length}.");
            }

            if (!Places.ContainsKey(cells[0]))
            {
                throw new FormatException($"{path}:{line}: unknown location '{cells[0]}'; known: {string.Join(", ", Places.Keys)}.");
            }

            if (!DateOnly.TryParseExact(cells[1], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                throw new FormatException($"{path}:{line}: '{cells[1]}' is not a date (yyyy-MM-dd).");
            }

            var values = new Dictionary<string, FieldValue>(fields.Length, StringComparer.Ordinal);
            for (var i = 0; i < fields.Length; i++)
            {
                var cell = cells[i + 2];
                values[fields[i]] = double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                    ? FieldValue.Of(number)
                    : FieldValue.Of(cell);
            }

            if (!stations.TryGetValue(cells[0], out var readings))
            {
                stations[cells[0]] = readings = [];
            }

            readings.Add(new WeatherReading(date, values));
        }

        return [.. stations.Select(s =>
        {
            var (region, latitude, longitude) = Places[s.Key];
            return new WeatherStation(s.Key, region, latitude, longitude, [.. s.Value.OrderBy(r => r.Date)]);
        })];
    }
}
