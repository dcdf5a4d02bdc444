using System.Text.RegularExpressions;

namespace DePIN.Abstractions.Nodes;

/// <summary>Region codes: lower-case letters and digits in dash-separated words, e.g. <c>eu-west</c>.</summary>
public static partial class RegionCode
{
    public const int MaxLength = 64;

    public static bool IsValid(string? region) => region is { Length: > 0 and <= MaxLength } && Pattern().IsMatch(region);

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex Pattern();
}
