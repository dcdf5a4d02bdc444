namespace DePIN.Core.Economy;

/// <summary>One node's supply as the market counts it: its region, capacity and what leases hold of it.</summary>
public sealed record MarketSupply(string Region, int CpuCores, int Gpus, int AllocatedCores, int AllocatedGpus);

/// <summary>One queued job as the market counts it: where it may run, what it takes and what it pays at most.</summary>
public sealed record MarketDemand(IReadOnlyList<string> Regions, string Class, int UnitsPerReplica, int Replicas, long MaxPricePerReplicaHour);

/// <summary>Rates by region and class, and what they mean for placement.</summary>
public static class Market
{
    /// <summary>A replica's price per hour on a node at <paramref name="unitRate"/>: the unit rate times its units.</summary>
    public static long ReplicaRate(long unitRate, int cpuCores, int gpus) => unitRate * ResourceClass.Units(cpuCores, gpus);

    /// <summary>
    /// This moment's observations, one per region and class with supply: the fleet's capacity and leases, and each
    /// queued job's replicas split evenly over the regions it may use, as demand that can pay the region's rate or not.
    /// </summary>
    public static List<MarketObservation> Observe(IEnumerable<MarketSupply> fleet, IEnumerable<MarketDemand> queued, Func<string, string, long> rate)
    {
        var cells = new Dictionary<(string Region, string Class), double[]>();
        double[] Cell(string region, string resourceClass)
        {
            if (!cells.TryGetValue((region, resourceClass), out var cell))
            {
                cells[(region, resourceClass)] = cell = new double[4];
            }

            return cell;
        }

        foreach (var node in fleet)
        {
            var cpu = Cell(node.Region, ResourceClass.Cpu);
            cpu[0] += node.CpuCores;
            cpu[1] += node.AllocatedCores;
            if (node.Gpus > 0)
            {
                var gpu = Cell(node.Region, ResourceClass.Gpu);
                gpu[0] += node.Gpus;
                gpu[1] += node.AllocatedGpus;
            }
        }

        // A job that names its regions is demand there even where no supply is left (every provider priced out): the
        // rate must be able to rise to bring them back. A job that names none spreads over the regions with supply.
        var regions = cells.Keys.Select(k => k.Region).Distinct(StringComparer.Ordinal).ToList();
        foreach (var job in queued)
        {
            var allowed = job.Regions.Count == 0 ? [.. regions.Where(r => cells.ContainsKey((r, job.Class)))] : job.Regions;
            foreach (var region in allowed)
            {
                var units = (double)job.UnitsPerReplica * job.Replicas / allowed.Count;
                var cell = Cell(region, job.Class);
                var pays = rate(region, job.Class) * job.UnitsPerReplica <= job.MaxPricePerReplicaHour;
                cell[pays ? 2 : 3] += units;
            }
        }

        return [.. cells.OrderBy(c => c.Key.Region, StringComparer.Ordinal).ThenBy(c => c.Key.Class, StringComparer.Ordinal)
            .Select(c => new MarketObservation(c.Key.Region, c.Key.Class, c.Value[0], c.Value[1], c.Value[2], c.Value[3]))];
    }

    /// <summary>
    /// The regions where a replica's price meets its cap: null when that is every region (no constraint to add), else
    /// the allowed regions (or all the market knows, when the job names none) whose rate it can pay, possibly none.
    /// </summary>
    public static IReadOnlyList<string>? Affordable(
        IReadOnlyList<string> allowed, IEnumerable<string> known, string resourceClass, int unitsPerReplica, long maxPricePerReplicaHour,
        Func<string, string, long> rate)
    {
        var candidates = allowed.Count > 0 ? allowed : [.. known];
        var affordable = candidates.Where(r => rate(r, resourceClass) * unitsPerReplica <= maxPricePerReplicaHour).ToList();
        return affordable.Count == candidates.Count ? null : affordable;
    }
}
