using DePIN.Core.Identity;

namespace DePIN.NodeAgent.Identity;

/// <summary>
/// Keeps a node's Ed25519 private key in a file only its owner can read (mode 0600), created on first start and
/// reused afterwards, so the node keeps its id across restarts.
/// </summary>
public static partial class KeyStore
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    public static NodeSigner LoadOrCreate(string path, ILogger logger)
    {
        if (File.Exists(path))
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & GroupOrOther) != 0)
            {
                LogTightened(logger, path);
                File.SetUnixFileMode(path, OwnerOnly);
            }

            var seed = File.ReadAllBytes(path);
            if (seed.Length != 32)
            {
                throw new InvalidDataException($"Key file {path} holds {seed.Length} bytes; an Ed25519 private key is 32.");
            }

            return NodeSigner.Import(seed);
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        else
        {
            Directory.CreateDirectory(directory);
        }

        var signer = NodeSigner.Create();
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        using (var file = new FileStream(temporary, options))
        {
            file.Write(signer.ExportPrivateKey());
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path); // atomic: a crash never leaves half a key behind
        LogCreated(logger, path, signer.NodeId);
        return signer;
    }

    [LoggerMessage(LogLevel.Warning, "Key file {Path} was readable by others; its mode is now 0600")]
    private static partial void LogTightened(ILogger logger, string path);

    [LoggerMessage(LogLevel.Information, "Created node key {Path} for node {NodeId}")]
    private static partial void LogCreated(ILogger logger, string path, string nodeId);
}
