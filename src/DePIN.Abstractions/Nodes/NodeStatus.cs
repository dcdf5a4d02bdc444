namespace DePIN.Abstractions.Nodes;

/// <summary>Where a node stands with the platform.</summary>
[GenerateSerializer, Alias("DePIN.NodeStatus")]
public enum NodeStatus
{
    /// <summary>Registered, no telemetry yet.</summary>
    Registered,

    /// <summary>Telemetry arrives on time.</summary>
    Online,

    /// <summary>Silent for the suspect threshold.</summary>
    Suspect,

    /// <summary>Silent for the offline threshold.</summary>
    Offline,

    /// <summary>Taking no new work; its work moves elsewhere.</summary>
    Draining,

    /// <summary>Excluded by the platform.</summary>
    Quarantined,
}
