namespace DePIN.Core.Scheduling;

/// <summary>An amount of the resources a node offers and a replica takes.</summary>
/// <param name="CpuCores">Logical CPU cores.</param>
/// <param name="MemoryBytes">Memory in bytes.</param>
/// <param name="Gpus">Whole GPUs.</param>
public readonly record struct Resources(int CpuCores, long MemoryBytes, int Gpus)
{
    public static Resources operator +(Resources a, Resources b) =>
        new(a.CpuCores + b.CpuCores, a.MemoryBytes + b.MemoryBytes, a.Gpus + b.Gpus);

    public static Resources operator -(Resources a, Resources b) =>
        new(a.CpuCores - b.CpuCores, a.MemoryBytes - b.MemoryBytes, a.Gpus - b.Gpus);

    public static Resources operator *(Resources a, int n) => new(a.CpuCores * n, a.MemoryBytes * n, a.Gpus * n);

    /// <summary>Whether <paramref name="demand"/> fits inside this amount.</summary>
    public bool Holds(Resources demand) =>
        demand.CpuCores <= CpuCores && demand.MemoryBytes <= MemoryBytes && demand.Gpus <= Gpus;

    /// <summary>How many times <paramref name="demand"/> fits; <see cref="int.MaxValue"/> for an empty demand.</summary>
    public int CopiesOf(Resources demand)
    {
        var copies = int.MaxValue;
        if (demand.CpuCores > 0)
        {
            copies = Math.Min(copies, CpuCores / demand.CpuCores);
        }

        if (demand.MemoryBytes > 0)
        {
            copies = (int)Math.Min(copies, MemoryBytes / demand.MemoryBytes);
        }

        if (demand.Gpus > 0)
        {
            copies = Math.Min(copies, Gpus / demand.Gpus);
        }

        return Math.Max(copies, 0);
    }

    /// <summary>The largest share of <paramref name="capacity"/> this amount takes in any one dimension, 0 to 1.</summary>
    public double DominantShareOf(Resources capacity)
    {
        static double Share(double used, double total) => total > 0 ? used / total : 0;
        return Math.Max(Share(CpuCores, capacity.CpuCores),
            Math.Max(Share(MemoryBytes, capacity.MemoryBytes), Share(Gpus, capacity.Gpus)));
    }
}
