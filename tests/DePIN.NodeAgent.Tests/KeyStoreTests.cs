using System.Runtime.Versioning;
using DePIN.NodeAgent.Identity;
using Microsoft.Extensions.Logging.Abstractions;

namespace DePIN.NodeAgent.Tests;

// Key files are protected with Unix file modes; the agent's key handling is for Linux and macOS.
[UnsupportedOSPlatform("windows")]
public sealed class KeyStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"depin-keys-{Guid.NewGuid():N}");

    [Fact]
    public void A_new_key_is_readable_by_its_owner_only_and_reused_on_the_next_start()
    {
        var path = Path.Combine(_directory, "sub", "node.key");

        using var first = KeyStore.LoadOrCreate(path, NullLogger.Instance);
        using var second = KeyStore.LoadOrCreate(path, NullLogger.Instance);

        Assert.Equal(first.NodeId, second.NodeId);
        Assert.Equal(32, new FileInfo(path).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_key_file_others_can_read_is_tightened_to_0600()
    {
        var path = Path.Combine(_directory, "node.key");
        using (KeyStore.LoadOrCreate(path, NullLogger.Instance))
        {
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using var reloaded = KeyStore.LoadOrCreate(path, NullLogger.Instance);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_key_file_of_the_wrong_size_is_refused()
    {
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, "broken.key");
        File.WriteAllBytes(path, new byte[31]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Assert.Throws<InvalidDataException>(() => KeyStore.LoadOrCreate(path, NullLogger.Instance));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
