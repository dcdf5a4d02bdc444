using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;

namespace DePIN.Grains.Nodes;

/// <summary>A node grain's durable state. Telemetry history is not kept here: only its summary.</summary>
[GenerateSerializer, Alias("DePIN.NodeState")]
public sealed class NodeState
{
    [Id(0)] public byte[]? PublicKey { get; set; }
    [Id(1)] public NodeCapabilities? Capabilities { get; set; }
    [Id(2)] public NodeStatus Status { get; set; }
    [Id(3)] public DateTimeOffset RegisteredAt { get; set; }
    [Id(4)] public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The signed timestamp of the registration applied last; older ones are refused.</summary>
    [Id(5)] public DateTimeOffset RegistrationSignedAt { get; set; }

    [Id(6)] public DateTimeOffset StatusChangedAt { get; set; }

    /// <summary>Platform time at which the last accepted batch arrived.</summary>
    [Id(7)] public DateTimeOffset? LastHeardAt { get; set; }

    /// <summary>Sequence number of the last accepted batch.</summary>
    [Id(8)] public long LastSequence { get; set; }

    /// <summary>Moving average of (arrival time − signed time): the node's clock offset plus transit.</summary>
    [Id(9)] public TimeSpan ClockOffset { get; set; }

    [Id(10)] public TelemetrySummary Telemetry { get; set; } = TelemetrySummary.Empty;
    [Id(11)] public TelemetryCounters Counters { get; set; } = TelemetryCounters.Zero;

    /// <summary>Checked results of the node's that agreed with the majority.</summary>
    [Id(12)] public long Agreed { get; set; }

    /// <summary>Checked results of the node's that did not.</summary>
    [Id(13)] public long Disagreed { get; set; }

    /// <summary>Whether the node is being drained (its status shows Draining whenever it is heard).</summary>
    [Id(14)] public bool Draining { get; set; }

    /// <summary>How an operator holds its draining.</summary>
    [Id(15)] public MaintenanceMode Mode { get; set; }

    /// <summary>Leases the node delivered (its work verified) and abandoned (it vanished without a drain notice).</summary>
    [Id(16)] public long Delivered { get; set; }

    [Id(17)] public long Abandoned { get; set; }

    /// <summary>Dataset records it contributed that were accepted, and the sum of their quality scores.</summary>
    [Id(18)] public long Records { get; set; }

    [Id(19)] public double QualitySum { get; set; }

    /// <summary>Inference requests it answered with a valid receipt, and those it left unanswered.</summary>
    [Id(20)] public long Served { get; set; }

    [Id(21)] public long Unanswered { get; set; }

    /// <summary>
    /// The last <see cref="EvidenceMemory"/> evidence reports taken, oldest first, each as the first 64 bits of the
    /// SHA-256 of its id (<see cref="EvidenceKey"/>): a repeat is ignored. Hashes keep the state small whatever the ids.
    /// </summary>
    [Id(22)] public List<long> EvidenceTaken { get; set; } = [];

    /// <summary>
    /// How many evidence reports a node remembers: more than reach a node between a sender's crash and its retry (a
    /// job reports once an attempt, a dataset once a reward round, a serving grain every <c>Inference:EvidenceInterval</c>).
    /// </summary>
    public const int EvidenceMemory = 128;

    public static long EvidenceKey(string id) =>
        System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id)));

    /// <summary>Everything its reputation is drawn from.</summary>
    public DePIN.Core.Work.ReputationEvidence Evidence =>
        new(Agreed, Disagreed, Delivered, Abandoned, Records, QualitySum, Served, Unanswered);

    public bool IsRegistered => PublicKey is not null && Capabilities is not null;
}
