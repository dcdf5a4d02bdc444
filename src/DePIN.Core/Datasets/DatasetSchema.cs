using System.Globalization;

namespace DePIN.Core.Datasets;

/// <summary>What kind of value a field holds.</summary>
public enum FieldType
{
    /// <summary>A finite number.</summary>
    Number,

    /// <summary>A whole number.</summary>
    Integer,

    /// <summary>Text, optionally from a fixed list.</summary>
    Text,
}

/// <summary>One field of a dataset's schema.</summary>
/// <param name="Name">The field's name in records.</param>
/// <param name="Type">Its kind.</param>
/// <param name="Unit">Unit of measure (e.g. <c>°C</c>, <c>mm</c>); documentation, not converted.</param>
/// <param name="Min">Smallest valid value, for numbers.</param>
/// <param name="Max">Largest valid value, for numbers.</param>
/// <param name="Required">Whether every record must carry it.</param>
/// <param name="Allowed">For text: the only values accepted; empty for any.</param>
public sealed record FieldSpec(
    string Name,
    FieldType Type,
    string? Unit = null,
    double? Min = null,
    double? Max = null,
    bool Required = true,
    IReadOnlyList<string>? Allowed = null);

/// <summary>Why a record does not fit its dataset's schema: the field and the reason.</summary>
public sealed record FieldError(string Field, string Reason);

/// <summary>The fields a dataset's records have, with their types, units and valid ranges.</summary>
public sealed record DatasetSchema(IReadOnlyList<FieldSpec> Fields)
{
    /// <summary>What is wrong with the schema itself; empty when it is usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Fields.Count is 0 or > Contribution.MaxFields)
        {
            problems.Add($"A schema has 1 to {Contribution.MaxFields} fields.");
        }

        foreach (var duplicate in Fields.GroupBy(f => f.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"Field '{duplicate.Key}' is declared more than once.");
        }

        foreach (var field in Fields)
        {
            if (string.IsNullOrWhiteSpace(field.Name) || field.Name.Length > 64)
            {
                problems.Add("Every field needs a name of 1 to 64 characters.");
            }

            if (field.Min is { } min && field.Max is { } max && min > max)
            {
                problems.Add($"Field '{field.Name}' has min {min} above max {max}.");
            }

            if (field.Type == FieldType.Text && (field.Min is not null || field.Max is not null))
            {
                problems.Add($"Field '{field.Name}' is text and cannot have a range.");
            }

            if (field.Type != FieldType.Text && field.Allowed is { Count: > 0 })
            {
                problems.Add($"Field '{field.Name}' is a number and cannot list allowed values.");
            }

            if (field.Min is { } low && !double.IsFinite(low) || field.Max is { } high && !double.IsFinite(high))
            {
                problems.Add($"Field '{field.Name}' has a range bound that is not a finite number.");
            }
        }

        return problems;
    }

    /// <summary>Every way <paramref name="values"/> breaks the schema: missing, unknown, mistyped or out-of-range fields.</summary>
    public IReadOnlyList<FieldError> Check(IReadOnlyDictionary<string, FieldValue> values)
    {
        var errors = new List<FieldError>();
        foreach (var field in Fields)
        {
            if (!values.TryGetValue(field.Name, out var value))
            {
                if (field.Required)
                {
                    errors.Add(new(field.Name, "is required."));
                }

                continue;
            }

            if (Check(field, value) is { } reason)
            {
                errors.Add(new(field.Name, reason));
            }
        }

        foreach (var name in values.Keys.Where(n => !Fields.Any(f => f.Name == n)).Order(StringComparer.Ordinal))
        {
            errors.Add(new(name, "is not in the dataset's schema."));
        }

        return errors;
    }

    private static string? Check(FieldSpec field, FieldValue value)
    {
        if (field.Type == FieldType.Text)
        {
            return value.Text switch
            {
                null => "must be text.",
                var t when field.Allowed is { Count: > 0 } allowed && !allowed.Contains(t, StringComparer.Ordinal) =>
                    $"must be one of {string.Join(", ", allowed)}, not '{t}'.",
                _ => null,
            };
        }

        if (value.IsText)
        {
            return "must be a number.";
        }

        var n = value.Number;
        if (field.Type == FieldType.Integer && n != Math.Floor(n))
        {
            return string.Create(CultureInfo.InvariantCulture, $"must be a whole number, not {n}.");
        }

        var unit = field.Unit is { Length: > 0 } u ? " " + u : "";
        if (field.Min is { } min && n < min)
        {
            return string.Create(CultureInfo.InvariantCulture, $"is {n}{unit}, below the minimum {min}{unit}.");
        }

        return field.Max is { } max && n > max
            ? string.Create(CultureInfo.InvariantCulture, $"is {n}{unit}, above the maximum {max}{unit}.")
            : null;
    }
}
