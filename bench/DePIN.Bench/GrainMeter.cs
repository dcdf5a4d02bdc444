using System.Diagnostics.Metrics;
using DePIN.Grains.Diagnostics;
using HdrHistogram;

namespace DePIN.Bench;

/// <summary>
/// Listens to two of the grains' own DePIN instruments: a counter (optionally only measurements with one tag value)
/// and a histogram of seconds, recorded between <see cref="Start"/> and <see cref="Stop"/>.
/// </summary>
public sealed class GrainMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly LongConcurrentHistogram _microseconds = new(1, 60 * 60 * 1_000_000L, 3);
    private long _count;
    private volatile bool _recording;

    public GrainMeter(string counter, string histogram, (string Key, string Value)? onlyTag = null)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DePINMetrics.MeterName && (instrument.Name == counter || instrument.Name == histogram))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, seconds, _, _) =>
        {
            if (_recording)
            {
                _microseconds.RecordValue(Math.Max(1, (long)(seconds * 1_000_000)));
            }
        });
        _listener.SetMeasurementEventCallback<long>((_, count, tags, _) =>
        {
            if (_recording && (onlyTag is not { } wanted || HasTag(tags, wanted)))
            {
                Interlocked.Add(ref _count, count);
            }
        });
        _listener.Start();
    }

    public void Start()
    {
        _microseconds.Reset();
        Interlocked.Exchange(ref _count, 0);
        _recording = true;
    }

    /// <summary>Goes on recording after a <see cref="Stop"/>, keeping what was recorded.</summary>
    public void Resume() => _recording = true;

    public Result Stop()
    {
        _recording = false;
        return new Result(Interlocked.Read(ref _count), _microseconds.Copy());
    }

    public void Dispose() => _listener.Dispose();

    private static bool HasTag(ReadOnlySpan<KeyValuePair<string, object?>> tags, (string Key, string Value) wanted)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == wanted.Key && Equals(tag.Value, wanted.Value))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>What was counted, and the histogram's percentiles in milliseconds.</summary>
    public sealed record Result(long Count, HistogramBase Seconds)
    {
        public double Milliseconds(double percentile) => Seconds.GetValueAtPercentile(percentile) / 1000.0;
    }
}
