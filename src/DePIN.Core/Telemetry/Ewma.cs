namespace DePIN.Core.Telemetry;

/// <summary>
/// Exponentially weighted moving average over a time window, correct for irregular sample spacing:
/// a sample <c>dt</c> after the previous one weighs <c>1 - exp(-dt / window)</c>.
/// </summary>
public static class Ewma
{
    public static double Weight(TimeSpan sinceLastSample, TimeSpan window) =>
        sinceLastSample <= TimeSpan.Zero ? 0
        : 1 - Math.Exp(-sinceLastSample.TotalSeconds / window.TotalSeconds);

    /// <summary>The next average; the first sample (<paramref name="count"/> 0) is taken as it is.</summary>
    public static double Next(double average, double sample, long count, double weight) =>
        count == 0 ? sample : average + weight * (sample - average);
}
