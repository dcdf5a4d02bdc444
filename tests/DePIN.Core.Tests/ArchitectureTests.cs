using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using DePIN.Testing;

namespace DePIN.Core.Tests;

/// <summary>
/// The layering docs/architecture.md states, read from the built assemblies' metadata: which DePIN assemblies each
/// one references, and that DePIN.Core touches no file system.
/// </summary>
public sealed class ArchitectureTests
{
    public static TheoryData<string, string[]> Allowed => new()
    {
        { "DePIN.Core", [] },
        { "DePIN.Abstractions", ["DePIN.Core"] },
        { "DePIN.Simulation", ["DePIN.Core"] },
        { "DePIN.Grains", ["DePIN.Abstractions", "DePIN.Core"] },
        { "DePIN.Client", ["DePIN.Abstractions", "DePIN.Core"] },
        { "DePIN.Silo", ["DePIN.Grains", "DePIN.Abstractions", "DePIN.Core", "DePIN.ServiceDefaults"] },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void An_assembly_references_only_the_DePIN_assemblies_below_it(string project, string[] allowed)
    {
        var referenced = Read(project, metadata => metadata.AssemblyReferences
            .Select(r => metadata.GetString(metadata.GetAssemblyReference(r).Name))
            .Where(name => name.StartsWith("DePIN.", StringComparison.Ordinal))
            .ToArray());

        Assert.Empty(referenced.Except(allowed));
    }

    [Fact]
    public void Core_touches_no_file_system()
    {
        string[] fileSystem = ["File", "FileInfo", "Directory", "DirectoryInfo", "FileStream", "FileSystemInfo", "StreamReader", "StreamWriter"];

        var used = Read("DePIN.Core", metadata => metadata.TypeReferences
            .Select(t => metadata.GetTypeReference(t))
            .Where(t => metadata.GetString(t.Namespace) == "System.IO" && fileSystem.Contains(metadata.GetString(t.Name)))
            .Select(t => metadata.GetString(t.Name))
            .ToArray());

        Assert.Empty(used);
    }

    private static T Read<T>(string project, Func<MetadataReader, T> read)
    {
        using var stream = File.OpenRead(Repository.Built(project));
        using var pe = new PEReader(stream);
        return read(pe.GetMetadataReader());
    }
}
