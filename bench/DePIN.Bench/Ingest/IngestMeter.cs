using System.Diagnostics.Metrics;
using DePIN.Grains.Diagnostics;
using HdrHistogram;

namespace DePIN.Bench.Ingest;

/// <summary>Listens to the grains' own instruments: batches they applied and the lag they measured.</summary>
public sealed class IngestMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly LongConcurrentHistogram _lagMicroseconds = new(1, 10 * 60 * 1_000_000L, 3);
    private long _batches;
    private volatile bool _recording;

    public IngestMeter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DePINMetrics.MeterName && instrument.Name is "depin.telemetry.lag" or "depin.telemetry.batches")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, seconds, _, _) =>
        {
            if (_recording)
            {
                _lagMicroseconds.RecordValue(Math.Max(1, (long)(seconds * 1_000_000)));
            }
        });
        _listener.SetMeasurementEventCallback<long>((_, count, _, _) =>
        {
            if (_recording)
            {
                Interlocked.Add(ref _batches, count);
            }
        });
        _listener.Start();
    }

    public void Start()
    {
        _lagMicroseconds.Reset();
        Interlocked.Exchange(ref _batches, 0);
        _recording = true;
    }

    public Result Stop()
    {
        _recording = false;
        return new Result(Interlocked.Read(ref _batches), _lagMicroseconds.Copy());
    }

    public void Dispose() => _listener.Dispose();

    public sealed record Result(long Batches, HistogramBase Lag)
    {
        public double LagMilliseconds(double percentile) => Lag.GetValueAtPercentile(percentile) / 1000.0;
    }
}
