namespace DePIN.Abstractions.Nodes;

/// <summary>
/// The body of <c>POST /v1/nodes</c>, signed as sent (header <c>DePIN-Signature</c>) with the private key
/// matching <paramref name="PublicKey"/>. The node id is derived from the key.
/// </summary>
/// <param name="PublicKey">The node's raw 32-byte Ed25519 public key (base64 in JSON).</param>
/// <param name="Capabilities">What the node offers.</param>
/// <param name="Timestamp">When the agent signed it; a registration older than the last one applied is refused.</param>
/// <param name="NodeId">Optional: the id the agent believes it has; refused when it is not the key's.</param>
[GenerateSerializer, Immutable, Alias("DePIN.NodeRegistration")]
public sealed record NodeRegistration(
    [property: Id(0)] byte[] PublicKey,
    [property: Id(1)] NodeCapabilities Capabilities,
    [property: Id(2)] DateTimeOffset Timestamp,
    [property: Id(3)] string? NodeId = null);

/// <summary>What a registration did.</summary>
[GenerateSerializer, Alias("DePIN.RegistrationOutcome")]
public enum RegistrationOutcome
{
    /// <summary>A new node.</summary>
    Created,

    /// <summary>A known node with the same key; capabilities replaced.</summary>
    Updated,

    /// <summary>The id belongs to a different key: nothing changed.</summary>
    KeyMismatch,

    /// <summary>Older than the registration already applied: nothing changed.</summary>
    Stale,
}

/// <summary>The outcome of a registration and the node as it now stands.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.RegistrationResult")]
public sealed record RegistrationResult(
    [property: Id(0)] RegistrationOutcome Outcome,
    [property: Id(1)] NodeDetails? Node);
