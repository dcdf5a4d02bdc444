using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;

namespace DePIN.NodeAgent.Sampling;

/// <summary>Where a node's capabilities and samples come from: the real host, or a simulated one.</summary>
public interface ITelemetrySource
{
    NodeCapabilities Capabilities { get; }

    /// <summary>A sample taken now; rates are averages since the previous call.</summary>
    TelemetrySample Sample(DateTimeOffset now);

    /// <summary>Fault events seen since the previous call.</summary>
    FaultReport[] TakeFaults() => [];
}
