using DePIN.Core.Datasets;

namespace DePIN.Core.Training;

/// <summary>How a feature's raw value is transformed before normalisation.</summary>
public enum FeatureTransform
{
    None,

    /// <summary>ln(1 + x), for skewed non-negative quantities such as precipitation.</summary>
    Log1p,
}

/// <summary>
/// One input feature: a numeric field of the record, or its provenance: <c>@latitude</c>, <c>@longitude</c>,
/// <c>@day_of_year_sin</c> and <c>@day_of_year_cos</c> (the sample date on the unit circle, so 31 December
/// is next to 1 January).
/// </summary>
public sealed record FeatureInput(string Source, FeatureTransform Transform = FeatureTransform.None);

/// <summary>Per-feature mean and scale, fitted on the training split and kept with the model.</summary>
public sealed record Normaliser(float[] Mean, float[] Scale)
{
    /// <summary>Mean and standard deviation (1 where a feature does not vary) of <paramref name="rows"/>.</summary>
    public static Normaliser Fit(IReadOnlyList<float[]> rows, int width)
    {
        var mean = new double[width];
        var square = new double[width];
        foreach (var row in rows)
        {
            for (var i = 0; i < width; i++)
            {
                mean[i] += row[i];
                square[i] += (double)row[i] * row[i];
            }
        }

        var n = Math.Max(rows.Count, 1);
        var scale = new float[width];
        for (var i = 0; i < width; i++)
        {
            mean[i] /= n;
            var sd = Math.Sqrt(Math.Max(square[i] / n - mean[i] * mean[i], 0));
            scale[i] = sd > 1e-9 ? (float)sd : 1f;
        }

        return new([.. mean.Select(m => (float)m)], scale);
    }

    public float[] Apply(float[] raw)
    {
        var x = new float[raw.Length];
        for (var i = 0; i < raw.Length; i++)
        {
            x[i] = (raw[i] - Mean[i]) / Scale[i];
        }

        return x;
    }
}

/// <summary>A classification task over a dataset's records: which features, which label field, which classes.</summary>
public sealed record TabularTask(IReadOnlyList<FeatureInput> Inputs, string Label, IReadOnlyList<string> Classes)
{
    /// <summary>The shipped weather dataset's task: the day's weather category from its measurements, place and season.</summary>
    public static TabularTask Weather { get; } = new(
        [
            new("precipitation", FeatureTransform.Log1p), new("temp_max"), new("temp_min"), new("wind"),
            new("@latitude"), new("@day_of_year_sin"), new("@day_of_year_cos"),
        ],
        "weather",
        ["drizzle", "fog", "rain", "snow", "sun"]);

    /// <summary>What is wrong with the task; empty when usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Inputs.Count is 0 or > 256)
        {
            problems.Add("A task has 1 to 256 inputs.");
        }

        if (Classes.Count is < 2 or > 256 || Classes.Distinct(StringComparer.Ordinal).Count() != Classes.Count)
        {
            problems.Add("A task has 2 to 256 distinct classes.");
        }

        if (string.IsNullOrWhiteSpace(Label))
        {
            problems.Add("A task needs a label field.");
        }

        foreach (var input in Inputs.Where(i => i.Source.StartsWith('@') && !Provenance.Contains(i.Source)))
        {
            problems.Add($"Input '{input.Source}' is not one of {string.Join(", ", Provenance)}.");
        }

        return problems;
    }

    private static readonly string[] Provenance = ["@latitude", "@longitude", "@day_of_year_sin", "@day_of_year_cos"];

    /// <summary>The raw (un-normalised) features and the class of a record; null when it lacks a feature or its class is not one of <see cref="Classes"/>.</summary>
    public (float[] Features, int Label)? Read(Contribution record) =>
        record.Values.TryGetValue(Label, out var label) && label.Text is { } text && IndexOf(text) is >= 0 and var index && Features(record) is { } features
            ? (features, index)
            : null;

    /// <summary>The raw (un-normalised) features of a record, label or not; null when it lacks one.</summary>
    public float[]? Features(Contribution record)
    {
        var features = new float[Inputs.Count];
        for (var i = 0; i < Inputs.Count; i++)
        {
            if (Value(record, Inputs[i].Source) is not { } value)
            {
                return null;
            }

            features[i] = (float)(Inputs[i].Transform == FeatureTransform.Log1p ? Math.Log(1 + Math.Max(value, 0)) : value);
        }

        return features;
    }

    /// <summary>
    /// Examples from records and their content hashes: the normaliser is fitted on the training split only (so the
    /// held-out split tells nothing to training), and every example carries its content hash's first 8 bytes as key.
    /// </summary>
    /// <param name="records">The records with their content hashes.</param>
    /// <param name="normaliser">A normaliser fitted before (a model's own); null to fit one on the training split.</param>
    public (List<Example> Examples, Normaliser Normaliser) Examples(IEnumerable<(Contribution Record, byte[] ContentHash)> records, Normaliser? normaliser = null)
    {
        var raw = new List<(float[] Features, int Label, ulong Key)>();
        foreach (var (record, hash) in records)
        {
            if (Read(record) is { } row)
            {
                raw.Add((row.Features, row.Label, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(hash)));
            }
        }

        normaliser ??= Normaliser.Fit([.. raw.Where(r => r.Key % 5 != 0).Select(r => r.Features)], Inputs.Count);
        return ([.. raw.Select(r => new Example(normaliser.Apply(r.Features), r.Label, r.Key))], normaliser);
    }

    private int IndexOf(string text)
    {
        for (var i = 0; i < Classes.Count; i++)
        {
            if (string.Equals(Classes[i], text, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static double? Value(Contribution record, string source)
    {
        var dayAngle = 2 * Math.PI * (record.SampledAt.UtcDateTime.DayOfYear - 1) / 365.25;
        return source switch
        {
            "@latitude" => record.Latitude,
            "@longitude" => record.Longitude,
            "@day_of_year_sin" => Math.Sin(dayAngle),
            "@day_of_year_cos" => Math.Cos(dayAngle),
            _ => record.Values.TryGetValue(source, out var v) && !v.IsText ? v.Number : null,
        };
    }
}
