namespace DePIN.Core.Economy;

/// <summary>What is priced separately: GPU work by the GPU-hour, CPU-only work by the core-hour.</summary>
public static class ResourceClass
{
    public const string Cpu = "cpu";
    public const string Gpu = "gpu";

    public static IReadOnlyList<string> All { get; } = [Cpu, Gpu];

    public static string Of(int gpus) => gpus > 0 ? Gpu : Cpu;

    /// <summary>The units a replica is priced in: its GPUs, or its cores when it needs none.</summary>
    public static int Units(int cpuCores, int gpus) => gpus > 0 ? gpus : Math.Max(1, cpuCores);

    /// <summary>Where the controller starts, in microcredits per unit-hour: 0.05 credits a core-hour, 1 a GPU-hour.</summary>
    public static long BaseRate(string resourceClass) => resourceClass == Gpu ? AccountId.PerCredit : AccountId.PerCredit / 20;
}

/// <summary>
/// One region and class at one moment: its supply (units of online nodes), what leases hold, and the queued demand
/// split by whether it can pay the current rate.
/// </summary>
/// <param name="Waiting">Units of queued replicas whose price cap the current rate meets: demand the supply lacks.</param>
/// <param name="PricedOut">Units of queued replicas whose cap is below the rate.</param>
public sealed record MarketObservation(string Region, string Class, double Capacity, double Used, double Waiting, double PricedOut);

/// <summary>The controller's tuning.</summary>
/// <param name="TargetLow">Below this share of supply in use (counting paying demand that waits), the rate falls…</param>
/// <param name="TargetHigh">…above this one it rises: the band where the rate rests.</param>
/// <param name="MaxStep">The most the rate moves in one step, as a share of itself (EIP-1559's 12.5 %).</param>
/// <param name="Floor">The rate never falls below this multiple of the class's base rate…</param>
/// <param name="Ceiling">…nor rises above this one.</param>
public sealed record PriceControllerOptions(double TargetLow = 0.6, double TargetHigh = 0.85, double MaxStep = 0.125, double Floor = 0.1, double Ceiling = 10)
{
    public static PriceControllerOptions Default { get; } = new();
}

/// <summary>
/// Sets each region's and class's rate from supply and demand, as EIP-1559 sets the base fee from block fullness:
/// pressure is the supply in use plus the queued demand that could pay, over the supply. Above the target band the
/// rate rises, by up to <see cref="PriceControllerOptions.MaxStep"/> a step in proportion to how far above; below it
/// the rate falls the same way, so idle supply becomes affordable to demand that was priced out, and providers whose
/// costs the rate no longer covers leave. Inside the band it rests. Bounded, and deterministic.
/// </summary>
public sealed class PriceController(PriceControllerOptions? options = null)
{
    private readonly PriceControllerOptions _options = options ?? PriceControllerOptions.Default;

    public PriceControllerOptions Options => _options;

    /// <summary>The next rate (microcredits per unit-hour) after <paramref name="rate"/> given what was observed.</summary>
    public long Next(long rate, MarketObservation observed)
    {
        var baseRate = ResourceClass.BaseRate(observed.Class);
        if (observed.Capacity <= 0)
        {
            // No supply: demand that could pay raises the rate as fast as it may (to bring providers back); none, hold.
            return Bound(observed.Waiting > 0 ? (long)Math.Round(rate * (1 + _options.MaxStep)) : rate, baseRate);
        }

        var pressure = (observed.Used + observed.Waiting) / observed.Capacity;
        double step = 0;
        if (pressure > _options.TargetHigh)
        {
            step = _options.MaxStep * Math.Min(1, (pressure - _options.TargetHigh) / (1 - _options.TargetHigh));
        }
        else if (pressure < _options.TargetLow)
        {
            step = -_options.MaxStep * Math.Min(1, (_options.TargetLow - pressure) / _options.TargetLow);
        }

        return Bound((long)Math.Round(rate * (1 + step)), baseRate);
    }

    private long Bound(long rate, long baseRate) =>
        Math.Clamp(rate, (long)(baseRate * _options.Floor), (long)(baseRate * _options.Ceiling));
}
