using System.Globalization;

namespace DePIN.Testing;

/// <summary>Reads values out of a Prometheus text exposition.</summary>
public static class MetricsText
{
    /// <summary>The sum of the samples of <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    public static double Value(string exposition, string name, params (string Label, string Value)[] labels)
    {
        double total = 0;
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(name, StringComparison.Ordinal))
            {
                continue;
            }

            var rest = line[name.Length..];
            if (rest.Length == 0 || (rest[0] != '{' && rest[0] != ' '))
            {
                continue; // a longer metric name with this prefix
            }

            if (labels.Any(l => !rest.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                continue;
            }

            total += double.Parse(rest[(rest.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }

        return total;
    }

    public static bool Has(string exposition, string name) =>
        exposition.Split('\n').Any(line => !line.StartsWith('#') && line.StartsWith(name, StringComparison.Ordinal));
}
