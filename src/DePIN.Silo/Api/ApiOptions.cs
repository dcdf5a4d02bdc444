namespace DePIN.Silo.Api;

/// <summary>Limits of the HTTP API; configuration section <c>Api</c>.</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Largest telemetry batch body accepted, in bytes; larger ones get 413.</summary>
    public int MaxTelemetryBytes { get; set; } = 64 * 1024;

    /// <summary>Largest body of <c>/v1/telemetry</c>, many nodes' batches relayed at once, in bytes.</summary>
    public int MaxRelayBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Most batches relayed in one request to <c>/v1/telemetry</c>.</summary>
    public int MaxRelayBatches { get; set; } = 1000;

    /// <summary>Most samples in one batch (an agent catching up after an outage sends several).</summary>
    public int MaxSamplesPerBatch { get; set; } = 120;

    /// <summary>Largest registration body accepted, in bytes.</summary>
    public int MaxRegistrationBytes { get; set; } = 16 * 1024;

    /// <summary>Largest job spec body accepted, in bytes.</summary>
    public int MaxJobSpecBytes { get; set; } = 16 * 1024;

    /// <summary>Largest contribution body accepted (413 past it).</summary>
    public int MaxContributionBytes { get; set; } = 16 * 1024;

    /// <summary>
    /// Hex SHA-256 of the operator's API key. Operators create tenants and see every tenant's jobs; without this
    /// setting nobody has the role.
    /// </summary>
    public string? OperatorKeySha256 { get; set; }
}
