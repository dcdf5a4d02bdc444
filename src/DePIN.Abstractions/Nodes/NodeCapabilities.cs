namespace DePIN.Abstractions.Nodes;

/// <summary>A GPU as the node reports it.</summary>
/// <param name="Model">Marketing name, e.g. "NVIDIA RTX 4090".</param>
/// <param name="VramBytes">Video memory in bytes.</param>
[GenerateSerializer, Immutable, Alias("DePIN.GpuInfo")]
public sealed record GpuInfo([property: Id(0)] string Model, [property: Id(1)] long VramBytes);

/// <summary>What a node offers, as it declares it at registration.</summary>
/// <param name="CpuCores">Logical CPU cores.</param>
/// <param name="MemoryBytes">Physical memory in bytes.</param>
/// <param name="Gpus">The node's GPUs; empty when it has none.</param>
/// <param name="DiskBytes">Disk capacity available to the platform, in bytes.</param>
/// <param name="BandwidthMbps">Network bandwidth in megabits per second.</param>
/// <param name="Region">Region code, e.g. "eu-west".</param>
/// <param name="Latitude">WGS 84 latitude in degrees.</param>
/// <param name="Longitude">WGS 84 longitude in degrees.</param>
/// <param name="AgentVersion">Version of the agent software.</param>
[GenerateSerializer, Immutable, Alias("DePIN.NodeCapabilities")]
public sealed record NodeCapabilities(
    [property: Id(0)] int CpuCores,
    [property: Id(1)] long MemoryBytes,
    [property: Id(2)] GpuInfo[] Gpus,
    [property: Id(3)] long DiskBytes,
    [property: Id(4)] double BandwidthMbps,
    [property: Id(5)] string Region,
    [property: Id(6)] double Latitude,
    [property: Id(7)] double Longitude,
    [property: Id(8)] string AgentVersion)
{
    /// <summary>Total video memory over all GPUs; derived, so never on the wire (a sent value would be ignored).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long GpuVramBytes => Gpus.Sum(g => g.VramBytes);

    /// <summary>Value equality, including the GPU list.</summary>
    public bool Equals(NodeCapabilities? other) =>
        other is not null &&
        CpuCores == other.CpuCores && MemoryBytes == other.MemoryBytes && Gpus.SequenceEqual(other.Gpus) &&
        DiskBytes == other.DiskBytes && BandwidthMbps.Equals(other.BandwidthMbps) && Region == other.Region &&
        Latitude.Equals(other.Latitude) && Longitude.Equals(other.Longitude) && AgentVersion == other.AgentVersion;

    public override int GetHashCode() => HashCode.Combine(CpuCores, MemoryBytes, Gpus.Length, DiskBytes, Region, AgentVersion);
}
