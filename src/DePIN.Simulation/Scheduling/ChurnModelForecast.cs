using DePIN.Core.Scheduling;

namespace DePIN.Simulation.Scheduling;

/// <summary>
/// The best a forecaster can do without seeing the future, for reference only: it knows how the churn trace was drawn
/// (each node's session distribution and how long its current session has run, its evening habit and time zone, the
/// outage rates) but not the draws. A node's chance to stay up is the product of its session outliving the duration,
/// no evening switch-off falling inside it, and no outage hitting it. Given to <see cref="PredictivePolicy"/> in place
/// of the predictor, it shows what the same policy and pass would reach with forecasts as good as the trace allows:
/// <c>schedule-sim</c> prints it as the policy <c>model</c>. The predictor learns from what the platform observes;
/// this reads the trace's parameters, so no predictor can be expected to beat it.
/// </summary>
public sealed class ChurnModelForecast(FleetTrace fleet) : ISurvivalForecast
{
    private readonly Dictionary<string, NodeChurn> _churn =
        fleet.Nodes.ToDictionary(n => n.NodeId, n => n.Churn, StringComparer.Ordinal);

    // Outages strike a node as a Poisson process: its region's outages (each taking a share of the region's nodes)
    // and its operator's.
    private readonly double _outagesPerHour =
        ((fleet.Model.RegionOutagesPerDay * (FleetTrace.RegionOutageShare.Low + FleetTrace.RegionOutageShare.High) / 2)
        + fleet.Model.OperatorOutagesPerDay) / 24;

    public double ProbabilityUp(NodeCandidate node, DateTimeOffset now, TimeSpan duration)
    {
        if (node.Availability.UpSince is null)
        {
            return 0;
        }

        var churn = _churn[node.NodeId];
        var hours = (now - ScheduleSimulation.Epoch).TotalHours;
        var need = Math.Max(0, duration.TotalHours);
        return SessionOutlives(churn, hours, need) * NoEveningOff(churn, hours, need) * Math.Exp(-_outagesPerHour * need);
    }

    /// <summary>Weibull survival of the node's own session, from its age now to its age at the end.</summary>
    private static double SessionOutlives(NodeChurn churn, double hours, double need)
    {
        // The session under way: the last to start by now (the first, before any has).
        var starts = churn.SessionStarts;
        var found = Array.BinarySearch(starts, hours);
        var current = Math.Max(0, found >= 0 ? found : ~found - 1);
        var age = Math.Max(0, hours - starts[current]);
        return Math.Exp(Math.Pow(age / churn.Scale, churn.Shape) - Math.Pow((age + need) / churn.Scale, churn.Shape));
    }

    /// <summary>The chance that no evening's switch-off (around 23:00 local, on a share of evenings) falls in the interval.</summary>
    private static double NoEveningOff(NodeChurn churn, double hours, double need)
    {
        if (churn.EveningHabit <= 0)
        {
            return 1;
        }

        var p = 1.0;
        var first = (int)Math.Floor((hours + churn.UtcOffset - 23) / 24) - 1;
        for (var day = first; (day * 24) + 23 - churn.UtcOffset < hours + need + (4 * FleetTrace.EveningDeviation); day++)
        {
            var off = (day * 24) + 23 - churn.UtcOffset;
            var inside = NormalCdf((hours + need - off) / FleetTrace.EveningDeviation) - NormalCdf((hours - off) / FleetTrace.EveningDeviation);
            p *= 1 - (churn.EveningHabit * inside);
        }

        return p;
    }

    /// <summary>Φ, via the complementary error function (Numerical Recipes' Chebyshev fit, error below 1.2e-7).</summary>
    private static double NormalCdf(double z)
    {
        var x = Math.Abs(z) / Math.Sqrt(2);
        var t = 1 / (1 + (0.5 * x));
        var poly = 0.0;
        foreach (var c in ErfcCoefficients)
        {
            poly = (poly * t) + c;
        }

        var erfc = t * Math.Exp(-(x * x) + poly);
        return z >= 0 ? 1 - (erfc / 2) : erfc / 2;
    }

    // Highest power first.
    private static readonly double[] ErfcCoefficients =
        [0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223];
}
