namespace DePIN.Testing;

/// <summary>Where the repository and the built projects are, seen from a test's output folder.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration the tests were built with (Debug or Release).</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Release"
            : "Debug";

    /// <summary>The built assembly of a project under <c>src/</c>, e.g. <c>Built("DePIN.Silo")</c>.</summary>
    public static string Built(string project, string? assemblyName = null)
    {
        var path = Path.Combine(Root, "src", project, "bin", Configuration, "net10.0", (assemblyName ?? project) + ".dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{path} is missing: build the solution ({Configuration}) first.", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DePIN.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No DePIN.sln above {AppContext.BaseDirectory}.");
    }
}
