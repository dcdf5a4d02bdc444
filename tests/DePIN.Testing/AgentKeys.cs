using DePIN.Core.Identity;

namespace DePIN.Testing;

/// <summary>The key files a node agent process keeps in its key directory (one per node it runs).</summary>
public static class AgentKeys
{
    /// <summary>The nodes' signers; empty until the agent has written its keys. The caller disposes them.</summary>
    public static List<NodeSigner> Signers(string directory, string pattern = "*.key") =>
        Directory.Exists(directory) ? [.. Directory.GetFiles(directory, pattern).Select(f => NodeSigner.Import(File.ReadAllBytes(f)))] : [];

    /// <summary>The nodes' ids; empty until the agent has written its keys.</summary>
    public static List<string> NodeIds(string directory, string pattern = "*.key")
    {
        var signers = Signers(directory, pattern);
        var ids = signers.Select(s => s.NodeId).ToList();
        signers.ForEach(s => s.Dispose());
        return ids;
    }
}
