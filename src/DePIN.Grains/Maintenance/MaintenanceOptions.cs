using DePIN.Core.Maintenance;

namespace DePIN.Grains.Maintenance;

/// <summary>Failure prediction and draining; configuration section <c>Maintenance</c>.</summary>
public sealed class MaintenanceOptions
{
    public const string Section = "Maintenance";

    /// <summary>How often a node grain assesses its node's risk.</summary>
    public TimeSpan RiskInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often a node grain keeps a moment of its node's evidence for the model to learn from.</summary>
    public TimeSpan ExampleInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A moment is labelled a failure when its node went offline within this long after it.</summary>
    public TimeSpan Horizon { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the failure model retrains on the fleet's history.</summary>
    public TimeSpan RetrainInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The fewest failures (and non-failures) the model learns from; until then the rule decides.</summary>
    public int MinimumFailures { get; set; } = 20;

    /// <summary>The most labelled moments the model grain keeps.</summary>
    public int MaxExamples { get; set; } = 200_000;

    /// <summary>Drain at this risk.</summary>
    public double DrainAt { get; set; } = DrainPolicy.Default.DrainAt;

    /// <summary>Return to service once risk has stayed below this for <see cref="SettleFor"/>.</summary>
    public double ReleaseBelow { get; set; } = DrainPolicy.Default.ReleaseBelow;

    public TimeSpan SettleFor { get; set; } = DrainPolicy.Default.SettleFor;

    /// <summary>Samples each metric's detector learns from before it scores (720: an hour at 5 s).</summary>
    public int DetectorWarmup { get; set; } = NodeHealthOptions.Default.Detector.Warmup;

    public DrainPolicy Policy => new(DrainAt, ReleaseBelow, SettleFor);

    public NodeHealthOptions Health => NodeHealthOptions.Default with { Detector = NodeHealthOptions.Default.Detector with { Warmup = DetectorWarmup } };
}
