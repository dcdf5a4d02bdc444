namespace DePIN.Abstractions.Jobs;

/// <summary>Tenant names: what API keys, job indexes and listings are keyed by.</summary>
public static class TenantName
{
    /// <summary>1–64 lower-case letters, digits and '-', starting with a letter or digit.</summary>
    public static bool IsValid(string? name) =>
        name is { Length: > 0 and <= 64 } && (char.IsAsciiLetterLower(name[0]) || char.IsAsciiDigit(name[0])) &&
        name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
}

/// <summary>A job spec broke a rule; <see cref="Errors"/> names each bad field (camelCase JSON paths).</summary>
[GenerateSerializer, Alias("DePIN.InvalidJobSpecException")]
public sealed class InvalidJobSpecException : Exception
{
    public InvalidJobSpecException(Dictionary<string, string[]> errors)
        : base("Invalid job spec: " + string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}")))
    {
        Errors = errors;
    }

    [Id(0)]
    public Dictionary<string, string[]> Errors { get; }
}
