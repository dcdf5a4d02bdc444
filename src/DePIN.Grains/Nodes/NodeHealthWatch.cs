using DePIN.Abstractions.Telemetry;
using DePIN.Core.Maintenance;
using DePIN.Grains.Maintenance;

namespace DePIN.Grains.Nodes;

/// <summary>
/// A node's health, as its grain watches it: an anomaly detector on every metric, the fault events its agent reports,
/// the risk of failing within the horizon that the failure model assesses from them, the moments kept as examples for
/// that model to learn from, and whether to drain. A class the node grain owns rather than a grain of its own: a grain
/// would take every telemetry batch a second time, as a message, at the fleet's telemetry rate. It lives in memory:
/// a fresh activation's detectors learn again; the drain decision the grain takes from it is durable.
/// </summary>
public sealed class NodeHealthWatch(MaintenanceOptions options)
{
    private readonly NodeHealth _health = new(options.Health);
    private readonly Queue<(DateTimeOffset At, float[] Features)> _moments = new();
    private readonly List<FailureExample> _examples = [];
    private readonly DrainTracker _drains = new(options.Policy);

    /// <summary>The last assessment of the risk of failing within the horizon.</summary>
    public RiskAssessment Risk { get; private set; } = new(0, RiskRule.Source, "not assessed yet");

    public DateTimeOffset? AssessedAt { get; private set; }

    /// <summary>Detector alarms since the activation.</summary>
    public long Anomalies { get; private set; }

    /// <summary>Examples waiting to go to the failure model.</summary>
    public IReadOnlyList<FailureExample> Examples => _examples;

    /// <summary>Whether the risk is due for another assessment.</summary>
    public bool AssessmentDue(DateTimeOffset now) => AssessedAt is not { } assessed || now - assessed >= options.RiskInterval;

    /// <summary>Runs the batch's samples through the detectors and counts its fault events; names each metric that alarmed.</summary>
    public void Observe(TelemetryBatch batch, DateTimeOffset now, Action<string> alarmed)
    {
        foreach (var sample in batch.Samples)
        {
            var alarms = _health.Observe(HealthOf(sample));
            for (var m = 0; alarms != 0; m++, alarms >>= 1)
            {
                if ((alarms & 1) != 0)
                {
                    Anomalies++;
                    alarmed(HealthSample.Metrics[m]);
                }
            }
        }

        foreach (var fault in batch.Faults ?? [])
        {
            if (KindOf(fault.Kind) is { } kind)
            {
                _health.Fault(kind, fault.At > now ? now : fault.At);
            }
        }
    }

    /// <summary>Assesses the risk with <paramref name="model"/>, and keeps a moment of the evidence for the model to learn from.</summary>
    public RiskAssessment Assess(IFailureRisk model, DateTimeOffset now)
    {
        var features = _health.Features(now);
        Risk = model.Assess(features);
        AssessedAt = now;

        if (_moments.Count == 0 || now - _moments.Last().At >= options.ExampleInterval)
        {
            _moments.Enqueue((now, features));
        }

        // A moment the horizon has passed without a failure is a healthy example.
        while (_moments.TryPeek(out var oldest) && now - oldest.At > options.Horizon)
        {
            _moments.Dequeue();
            _examples.Add(new FailureExample(oldest.Features, Failed: false));
        }

        return Risk;
    }

    /// <summary>
    /// Whether the node should be draining now, given whether it is, the operator's hold (true: drain, false: keep,
    /// null: the risk decides) and the last risk. <paramref name="fresh"/> decides as if it were not draining yet.
    /// </summary>
    public bool ShouldDrain(bool draining, bool? held, DateTimeOffset now, bool fresh = false) =>
        _drains.Decide(draining && !fresh, Risk.Risk, now, held);

    /// <summary>The node went offline or its work failed: the moments before were the warning, as far back as the horizon.</summary>
    public void LabelFailure(DateTimeOffset at)
    {
        foreach (var (when, features) in _moments)
        {
            _examples.Add(new FailureExample(features, Failed: at - when <= options.Horizon));
        }

        _moments.Clear();
    }

    /// <summary>The examples were sent: forget them.</summary>
    public void ExamplesSent(int count) => _examples.RemoveRange(0, Math.Min(count, _examples.Count));

    private static HealthSample HealthOf(TelemetrySample s)
    {
        // One pass over the GPUs: mean utilisation, hottest temperature, summed memory and power (NaN without GPUs).
        double utilization = 0, hottest = double.NaN, memory = 0, power = 0;
        foreach (var g in s.Gpus)
        {
            utilization += g.Utilization;
            hottest = double.IsNaN(hottest) ? g.TemperatureC : Math.Max(hottest, g.TemperatureC);
            memory += g.MemoryUsedBytes;
            power += g.PowerWatts;
        }

        var gpus = s.Gpus.Length > 0;
        return new(
            s.At,
            s.CpuUtilization,
            s.MemoryTotalBytes > 0 ? (double)s.MemoryUsedBytes / s.MemoryTotalBytes : double.NaN,
            s.NetRxBytesPerSecond,
            s.NetTxBytesPerSecond,
            s.DiskReadBytesPerSecond,
            s.DiskWriteBytesPerSecond,
            s.DiskTotalBytes > 0 ? (double)s.DiskUsedBytes / s.DiskTotalBytes : double.NaN,
            gpus ? utilization / s.Gpus.Length : double.NaN,
            hottest,
            gpus ? memory : double.NaN,
            gpus ? power : double.NaN,
            s.PacketLoss ?? double.NaN,
            s.LatencyMs ?? double.NaN);
    }

    private static FaultKind? KindOf(string kind) => kind switch
    {
        FaultKinds.GpuXid => FaultKind.GpuXid,
        FaultKinds.GpuEcc => FaultKind.GpuEcc,
        FaultKinds.Disk => FaultKind.DiskError,
        FaultKinds.Crash => FaultKind.ProcessCrash,
        FaultKinds.Kernel => FaultKind.Kernel,
        _ => null,
    };
}
