namespace DePIN.Core.Maintenance;

/// <summary>The kinds of fault event an agent reports.</summary>
public enum FaultKind
{
    /// <summary>An NVIDIA Xid error (driver-reported GPU fault).</summary>
    GpuXid,

    /// <summary>A GPU memory ECC error.</summary>
    GpuEcc,

    /// <summary>A disk I/O or SMART error.</summary>
    DiskError,

    /// <summary>A workload or agent process crashed.</summary>
    ProcessCrash,

    /// <summary>Any other kernel warning or error the agent could read.</summary>
    Kernel,
}

/// <summary>One reading of a node as the health model sees it; NaN where the node has no such metric.</summary>
/// <param name="Memory">Used over total, 0 to 1.</param>
/// <param name="DiskUsed">Used over total space, 0 to 1.</param>
/// <param name="GpuUtilization">The mean over the node's GPUs, 0 to 1.</param>
/// <param name="GpuTemperatureC">The hottest GPU's.</param>
/// <param name="GpuMemoryBytes">Summed over the GPUs.</param>
/// <param name="GpuPowerWatts">Summed over the GPUs.</param>
public readonly record struct HealthSample(
    DateTimeOffset At,
    double Cpu,
    double Memory,
    double NetRx,
    double NetTx,
    double DiskRead,
    double DiskWrite,
    double DiskUsed,
    double GpuUtilization,
    double GpuTemperatureC,
    double GpuMemoryBytes,
    double GpuPowerWatts,
    double PacketLoss,
    double LatencyMs)
{
    /// <summary>The metric names, in <see cref="Metric"/> order: the <c>metric</c> label of <c>depin_anomalies_total</c>.</summary>
    public static readonly string[] Metrics =
    [
        "cpu", "memory", "net_rx", "net_tx", "disk_read", "disk_write", "disk_used",
        "gpu_utilization", "gpu_temperature", "gpu_memory", "gpu_power", "packet_loss", "latency",
    ];

    public double Metric(int index) => index switch
    {
        0 => Cpu,
        1 => Memory,
        2 => NetRx,
        3 => NetTx,
        4 => DiskRead,
        5 => DiskWrite,
        6 => DiskUsed,
        7 => GpuUtilization,
        8 => GpuTemperatureC,
        9 => GpuMemoryBytes,
        10 => GpuPowerWatts,
        11 => PacketLoss,
        12 => LatencyMs,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };
}

/// <summary>How <see cref="NodeHealth"/> remembers: how fast evidence fades and how long baselines are.</summary>
/// <param name="EvidenceHalfLife">Anomalies and faults count half after this long.</param>
/// <param name="RecentWindow">The window of the short averages (heat, loss, latency).</param>
/// <param name="SustainedWindow">The window of the averages that tell a blip from a trend.</param>
/// <param name="BaselineWindow">The window of the node's own normal: its latency and its temperature for its load.</param>
/// <param name="Detector">The anomaly detector run on every metric.</param>
public sealed record NodeHealthOptions(
    TimeSpan EvidenceHalfLife,
    TimeSpan RecentWindow,
    TimeSpan SustainedWindow,
    TimeSpan BaselineWindow,
    NoveltyOptions Detector)
{
    /// <summary>Telemetry every 5 s: detectors learn for an hour and rest 12.5 minutes after an alarm.</summary>
    public static NodeHealthOptions Default { get; } = new(
        TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(5), TimeSpan.FromHours(1), TimeSpan.FromHours(24), new NoveltyOptions(Warmup: 720, Rest: 150));
}

/// <summary>
/// What the platform knows of one node's health, in constant memory: an online anomaly detector per metric, fading
/// counts of its anomalies and of each kind of fault event, how much hotter its GPUs run than their load explains
/// (against the node's own temperature-for-load line), and short and long averages of packet loss and latency. <see cref="Features"/> turns it into the vector the failure model and the fallback rule read.
/// </summary>
public sealed class NodeHealth
{
    /// <summary>The feature names, in <see cref="Features"/> order.</summary>
    public static readonly string[] FeatureNames =
    [
        .. HealthSample.Metrics.Select(m => $"anomalies_{m}"),
        .. Enum.GetNames<FaultKind>().Select(k => $"faults_{k}"),
        "unexplained_heat_c",
        "packet_loss",
        "packet_loss_sustained",
        "latency_ratio",
        "latency_ratio_sustained",
    ];

    private readonly NodeHealthOptions _options;
    private readonly NoveltyDetector[] _detectors;
    private readonly FadingCount[] _anomalies;
    private readonly FadingCount[] _faults;
    private LoadModel _temperatureForLoad;
    private Average _heat;
    private Average _loss;
    private Average _lossSustained;
    private Average _latency;
    private Average _latencySustained;
    private Average _latencyBaseline;

    public NodeHealth(NodeHealthOptions? options = null)
    {
        _options = options ?? NodeHealthOptions.Default;
        _detectors = [.. HealthSample.Metrics.Select(_ => new NoveltyDetector(_options.Detector))];
        _anomalies = new FadingCount[HealthSample.Metrics.Length];
        _faults = new FadingCount[Enum.GetValues<FaultKind>().Length];
    }

    /// <summary>The length of <see cref="FeatureNames"/>, as a constant for ML.NET's schema.</summary>
    public const int FeatureCount = 23;

    /// <summary>
    /// Runs every metric's detector over the sample; returns a bit per metric that raised an alarm (bit i for
    /// <see cref="HealthSample.Metrics"/>[i]).
    /// </summary>
    public int Observe(HealthSample sample)
    {
        var alarms = 0;
        for (var m = 0; m < _detectors.Length; m++)
        {
            var value = sample.Metric(m);
            if (double.IsFinite(value) && _detectors[m].Score(value) >= _options.Detector.Alarm)
            {
                alarms |= 1 << m;
                _anomalies[m].Add(sample.At, 1, _options.EvidenceHalfLife);
            }
        }

        if (double.IsFinite(sample.GpuTemperatureC) && double.IsFinite(sample.GpuUtilization))
        {
            // Temperature follows load; what precedes a thermal failure is heat the load does not explain.
            _heat.Add(sample.At, sample.GpuTemperatureC - _temperatureForLoad.Predict(sample.GpuUtilization), _options.RecentWindow);
            _temperatureForLoad.Add(sample.At, sample.GpuUtilization, sample.GpuTemperatureC, _options.BaselineWindow);
        }

        _loss.Add(sample.At, sample.PacketLoss, _options.RecentWindow);
        _lossSustained.Add(sample.At, sample.PacketLoss, _options.SustainedWindow);
        _latency.Add(sample.At, sample.LatencyMs, _options.RecentWindow);
        _latencySustained.Add(sample.At, sample.LatencyMs, _options.SustainedWindow);
        _latencyBaseline.Add(sample.At, sample.LatencyMs, _options.BaselineWindow);
        return alarms;
    }

    /// <summary>Counts a fault event the node's agent reported.</summary>
    public void Fault(FaultKind kind, DateTimeOffset at) => _faults[(int)kind].Add(at, 1, _options.EvidenceHalfLife);

    /// <summary>The node's evidence as of <paramref name="now"/>, in <see cref="FeatureNames"/> order.</summary>
    public float[] Features(DateTimeOffset now)
    {
        var features = new float[FeatureCount];
        var i = 0;
        foreach (var count in _anomalies)
        {
            features[i++] = (float)count.At(now, _options.EvidenceHalfLife);
        }

        foreach (var count in _faults)
        {
            features[i++] = (float)count.At(now, _options.EvidenceHalfLife);
        }

        features[i++] = (float)_heat.Value;
        features[i++] = (float)_loss.Value;
        features[i++] = (float)_lossSustained.Value;
        features[i++] = (float)(_latencyBaseline.Value > 0 ? _latency.Value / _latencyBaseline.Value : 1.0);
        features[i] = (float)(_latencyBaseline.Value > 0 ? _latencySustained.Value / _latencyBaseline.Value : 1.0);
        return features;
    }

    /// <summary>A count that halves every half-life.</summary>
    private struct FadingCount
    {
        private double _value;
        private DateTimeOffset _at;

        public void Add(DateTimeOffset at, double amount, TimeSpan halfLife)
        {
            _value = At(at, halfLife) + amount;
            _at = at > _at ? at : _at;
        }

        public readonly double At(DateTimeOffset now, TimeSpan halfLife) =>
            _value == 0 || now <= _at ? _value : _value * Math.Pow(0.5, (now - _at) / halfLife);
    }

    /// <summary>A moving least-squares line of y on x (temperature on utilisation), weighted towards recent samples.</summary>
    private struct LoadModel
    {
        private DateTimeOffset _at;
        private bool _started;
        private double _x;
        private double _y;
        private double _xx;
        private double _xy;

        public readonly double Predict(double x) =>
            !_started ? double.NaN : _xx > 1e-4 ? _y + (_xy / _xx * (x - _x)) : _y;

        public void Add(DateTimeOffset at, double x, double y, TimeSpan window)
        {
            if (!_started)
            {
                (_x, _y, _at, _started) = (x, y, at, true);
                return;
            }

            var w = at > _at ? 1 - Math.Exp(-(at - _at) / window) : 0;
            var dx = x - _x;
            var dy = y - _y;
            _x += w * dx;
            _y += w * dy;
            _xx = (1 - w) * (_xx + (w * dx * dx));
            _xy = (1 - w) * (_xy + (w * dx * dy));
            _at = at > _at ? at : _at;
        }
    }

    /// <summary>A time-weighted moving average that skips missing (NaN) readings and starts at the first one.</summary>
    private struct Average
    {
        private DateTimeOffset _at;
        private bool _started;

        public double Value { get; private set; }

        public void Add(DateTimeOffset at, double sample, TimeSpan window)
        {
            if (!double.IsFinite(sample))
            {
                return;
            }

            if (!_started)
            {
                (Value, _at, _started) = (sample, at, true);
                return;
            }

            var weight = at > _at ? 1 - Math.Exp(-(at - _at) / window) : 0;
            Value += weight * (sample - Value);
            _at = at > _at ? at : _at;
        }
    }
}
