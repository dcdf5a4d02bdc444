namespace DePIN.Cli;

/// <summary>Command-line options: <c>--name value</c> pairs, each known and given once.</summary>
internal static class Options
{
    /// <summary>The options by name, or null when an argument is not a known <c>--name value</c> pair or repeats.</summary>
    public static Dictionary<string, string>? Parse(string[] args, params string[] known)
    {
        if (args.Length % 2 != 0)
        {
            return null;
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || !options.TryAdd(args[i][2..], args[i + 1]))
            {
                return null;
            }
        }

        return options.Keys.All(known.Contains) ? options : null;
    }
}
