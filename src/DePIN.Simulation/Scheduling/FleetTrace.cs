using DePIN.Core.Scheduling;

namespace DePIN.Simulation.Scheduling;

/// <summary>The kinds of machine the simulated fleet mixes.</summary>
public enum MachineClass
{
    /// <summary>Hosted servers: sessions of days, short maintenance.</summary>
    Datacenter,

    /// <summary>Home rigs: often switched off overnight (local time), occasional crashes.</summary>
    Prosumer,

    /// <summary>Spot-like capacity relisted elsewhere when it pays better, and edge machines: sessions of hours.</summary>
    Volatile,
}

/// <summary>One simulated machine and the intervals, in hours from the trace's start, during which it is up.</summary>
/// <param name="Churn">How its own churn was drawn: what a forecaster that knew the trace's model, but not its draws, would know.</param>
public sealed record SimNode(
    int Index,
    string NodeId,
    MachineClass Class,
    string Region,
    int Operator,
    Resources Capacity,
    IReadOnlyList<(double Start, double End)> Up,
    NodeChurn Churn);

/// <summary>
/// The parameters a node's own churn was drawn with, and when each of its own sessions began (evening switch-offs
/// and outages do not restart the session clock).
/// </summary>
/// <param name="Shape">Weibull shape of its sessions.</param>
/// <param name="Scale">Weibull scale of its sessions, in hours.</param>
/// <param name="EveningHabit">Share of evenings it is switched off around 23:00 local time (0 for machines that are not).</param>
/// <param name="UtcOffset">Its region's offset from UTC, in hours.</param>
/// <param name="SessionStarts">When each of its own sessions began, in hours from the trace's start, in order.</param>
public sealed record NodeChurn(double Shape, double Scale, double EveningHabit, double UtcOffset, double[] SessionStarts);

/// <summary>How the churn trace is drawn.</summary>
/// <param name="Nodes">Fleet size.</param>
/// <param name="Hours">Length of the trace.</param>
/// <param name="RegionOutagesPerDay">Per region: outages that take a share of its nodes down together.</param>
/// <param name="OperatorOutagesPerDay">Per operator (a group of about 8 machines of one owner): outages of all of them.</param>
public sealed record ChurnModel(
    int Nodes,
    double Hours,
    double RegionOutagesPerDay = 1 / 3.0,
    double OperatorOutagesPerDay = 1 / 7.0);

/// <summary>
/// A deterministic churn trace, the same for every policy that runs on it. Sessions are Weibull with shape below 1
/// (heavy-tailed, as measured on volunteer and peer-to-peer fleets), home machines follow a day/night rhythm in their
/// region's local time, and regional and per-operator outages take nodes down together.
/// </summary>
public sealed class FleetTrace
{
    /// <summary>Regions with their UTC offsets in hours.</summary>
    public static readonly IReadOnlyList<(string Region, double UtcOffset)> Regions =
    [
        ("us-east", -5), ("us-west", -8), ("eu-west", 0), ("eu-central", 1), ("ap-south", 5.5), ("ap-northeast", 9),
    ];

    private FleetTrace(ChurnModel model, IReadOnlyList<SimNode> nodes)
    {
        Model = model;
        Nodes = nodes;
    }

    public ChurnModel Model { get; }

    public IReadOnlyList<SimNode> Nodes { get; }

    /// <summary>GPU-hours the fleet is up for between two times.</summary>
    public double GpuHoursUp(double from, double to)
    {
        double total = 0;
        foreach (var node in Nodes)
        {
            foreach (var (start, end) in node.Up)
            {
                var overlap = Math.Min(end, to) - Math.Max(start, from);
                if (overlap > 0)
                {
                    total += overlap * node.Capacity.Gpus;
                }
            }
        }

        return total;
    }

    public static FleetTrace Generate(ChurnModel model, int seed)
    {
        var random = new Random(seed);
        var specs = new List<(MachineClass Class, int Region, int Operator)>();
        var operators = 0;
        while (specs.Count < model.Nodes)
        {
            // Machines come in small groups that share an owner, a class and a region.
            var machineClass = random.Pick<MachineClass>([(MachineClass.Datacenter, 0.25), (MachineClass.Prosumer, 0.45), (MachineClass.Volatile, 0.3)]);
            var region = random.Next(Regions.Count);
            var size = machineClass == MachineClass.Prosumer ? 1 + random.Next(3) : 4 + random.Next(9);
            for (var i = 0; i < size && specs.Count < model.Nodes; i++)
            {
                specs.Add((machineClass, region, operators));
            }

            operators++;
        }

        var downs = specs.Select(_ => new List<(double Start, double End)>()).ToArray();
        AddRegionOutages(model, random, specs, downs);
        AddOperatorOutages(model, random, specs, operators, downs);

        var nodes = new SimNode[specs.Count];
        for (var i = 0; i < specs.Count; i++)
        {
            var (machineClass, region, owner) = specs[i];
            var nodeRandom = new Random(unchecked((seed * 1_000_003) + (i * 7919) + 17));
            var churn = AddOwnChurn(model, nodeRandom, machineClass, Regions[region].UtcOffset, downs[i]);
            // A machine's size says nothing about how long it stays: rented servers come and go with the market
            // as home rigs do with their owners. That is what makes availability worth predicting.
            var gpus = nodeRandom.Pick<int>([(1, 0.5), (2, 0.25), (4, 0.15), (8, 0.1)]);
            var capacity = new Resources(8 * gpus, (32L << 30) * gpus, gpus);
            nodes[i] = new SimNode(i, $"sim{i:D6}", machineClass, Regions[region].Region, owner, capacity,
                Complement(downs[i], model.Hours), churn);
        }

        return new FleetTrace(model, nodes);
    }

    /// <summary>The spread, in hours, of the time a home rig is switched off around 23:00 local time.</summary>
    public const double EveningDeviation = 0.75;

    /// <summary>The share of a region's nodes a regional outage takes down is drawn uniformly between these.</summary>
    public static (double Low, double High) RegionOutageShare => (0.2, 0.7);

    private static NodeChurn AddOwnChurn(ChurnModel model, Random random, MachineClass machineClass, double utcOffset, List<(double, double)> downs)
    {
        var (shape, scale, downMedian) = machineClass switch
        {
            MachineClass.Datacenter => (0.7, 150.0, 0.5),
            MachineClass.Prosumer => (0.6, 40.0, 0.3),
            _ => (0.5, 3.0, 1.0),
        };

        var t = random.NextDouble() < 0.8 ? 0 : random.Exponential(downMedian);
        if (t > 0)
        {
            downs.Add((0, t));
        }

        var starts = new List<double> { t };
        while (t < model.Hours)
        {
            t += random.Weibull(shape, scale);
            var back = t + random.LogNormal(downMedian, 1.0);
            downs.Add((t, back));
            t = back;
            starts.Add(t);
        }

        var habit = 0.0;
        if (machineClass == MachineClass.Prosumer)
        {
            // Switched off on most evenings around 23:00 local time and back around 08:00.
            habit = random.Uniform(0.3, 0.9);
            for (var day = -1; day * 24 < model.Hours; day++)
            {
                if (random.NextDouble() < habit)
                {
                    var off = day * 24 + 23 - utcOffset + random.Normal(0, EveningDeviation);
                    var on = day * 24 + 32 - utcOffset + random.Normal(0, EveningDeviation);
                    downs.Add((off, Math.Max(on, off + 1)));
                }
            }
        }

        return new NodeChurn(shape, scale, habit, utcOffset, [.. starts]);
    }

    private static void AddRegionOutages(ChurnModel model, Random random, List<(MachineClass Class, int Region, int Operator)> specs, List<(double, double)>[] downs)
    {
        for (var region = 0; region < Regions.Count; region++)
        {
            for (var t = random.Exponential(24 / model.RegionOutagesPerDay); t < model.Hours; t += random.Exponential(24 / model.RegionOutagesPerDay))
            {
                var end = t + random.LogNormal(1.5, 0.7);
                var share = random.Uniform(RegionOutageShare.Low, RegionOutageShare.High);
                for (var i = 0; i < specs.Count; i++)
                {
                    if (specs[i].Region == region && random.NextDouble() < share)
                    {
                        downs[i].Add((t, end));
                    }
                }
            }
        }
    }

    private static void AddOperatorOutages(ChurnModel model, Random random, List<(MachineClass Class, int Region, int Operator)> specs, int operators, List<(double, double)>[] downs)
    {
        var members = specs.Select((s, i) => (s.Operator, i)).ToLookup(x => x.Operator, x => x.i);
        for (var owner = 0; owner < operators; owner++)
        {
            for (var t = random.Exponential(24 / model.OperatorOutagesPerDay); t < model.Hours; t += random.Exponential(24 / model.OperatorOutagesPerDay))
            {
                var end = t + random.LogNormal(3, 0.8);
                foreach (var i in members[owner])
                {
                    downs[i].Add((t, end));
                }
            }
        }
    }

    /// <summary>The up intervals: [0, hours] minus the union of the down intervals.</summary>
    private static List<(double Start, double End)> Complement(List<(double Start, double End)> downs, double hours)
    {
        downs.Sort((a, b) => a.Start.CompareTo(b.Start));
        var up = new List<(double, double)>();
        var cursor = 0.0;
        foreach (var (start, end) in downs)
        {
            if (start > cursor && cursor < hours)
            {
                up.Add((cursor, Math.Min(start, hours)));
            }

            cursor = Math.Max(cursor, end);
        }

        if (cursor < hours)
        {
            up.Add((cursor, hours));
        }

        return up;
    }
}
