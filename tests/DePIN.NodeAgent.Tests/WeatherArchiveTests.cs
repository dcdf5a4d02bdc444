using System.Text.Json;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Http;
using DePIN.Core.Datasets;
using DePIN.Simulation.Weather;
using DePIN.Testing;

namespace DePIN.NodeAgent.Tests;

public sealed class WeatherArchiveTests : IDisposable
{
    private static readonly string Shipped = Path.Combine(Repository.Root, "data", "weather");
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"depin-weather-{Guid.NewGuid():N}.csv");

    [Fact]
    public void The_shipped_archive_gives_a_station_per_city_whose_every_record_fits_the_shipped_definition()
    {
        var stations = WeatherArchive.Read(Path.Combine(Shipped, "weather.csv"));
        var definition = JsonSerializer.Deserialize<DatasetDefinition>(File.ReadAllBytes(Path.Combine(Shipped, "dataset.json")), ApiJson.Options)!;
        var schema = definition.Schema();

        Assert.Equal(["Seattle", "New York"], stations.Select(s => s.Location));
        Assert.Equal(["us-west", "us-east"], stations.Select(s => s.Region));
        Assert.Empty(schema.Problems());
        foreach (var station in stations)
        {
            // 1,461 consecutive days, 2012 to 2015, each once.
            Assert.Equal(1461, station.Readings.Count);
            Assert.Equal(
                Enumerable.Range(0, 1461).Select(d => new DateOnly(2012, 1, 1).AddDays(d)),
                station.Readings.Select(r => r.Date));
        }

        var first = stations[0].Readings[0].Values;
        Assert.Equal([0.0, 12.8, 5.0, 4.7], new[] { "precipitation", "temp_max", "temp_min", "wind" }.Select(f => first[f].Number));
        Assert.Equal("drizzle", first["weather"].Text);

        var records = stations.SelectMany(s => s.Readings.Select(r => s.Record(r, "weather", "node-1", "1.0"))).ToList();
        Assert.All(records, r => Assert.Empty(schema.Check(r.Values)));
        Assert.Equal(new DateTimeOffset(2012, 1, 1, 0, 0, 0, TimeSpan.Zero), records[0].SampledAt);
        Assert.Equal(2922, records.Select(r => Convert.ToHexString(Contribution.ContentHash(r.ToCanonical()))).Distinct().Count());
    }

    [Theory]
    [InlineData("place,date,x\nSeattle,2012-01-01,1\n", ":1", "header")]
    [InlineData("location,date,x\nSeattle,2012-01-01,1\nAtlantis,2012-01-01,1\n", ":3", "unknown location 'Atlantis'")]
    [InlineData("location,date,x\nSeattle,2012-01-01\n", ":2", "2 cells where the header has 3")]
    [InlineData("location,date,x\nSeattle,01/02/2012,1\n", ":2", "'01/02/2012' is not a date")]
    public void A_malformed_archive_is_refused_naming_the_line_and_why(string csv, string line, string reason)
    {
        File.WriteAllText(_file, csv);

        var error = Assert.Throws<FormatException>(() => WeatherArchive.Read(_file));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        if (line != ":1")
        {
            Assert.Contains(_file + line + ":", error.Message, StringComparison.Ordinal);
        }
    }

    public void Dispose() => File.Delete(_file);
}
