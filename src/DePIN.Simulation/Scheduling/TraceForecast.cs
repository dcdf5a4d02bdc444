using DePIN.Core.Scheduling;

namespace DePIN.Simulation.Scheduling;

/// <summary>
/// Perfect foresight, for reference only: it reads the churn trace's future, so it knows exactly how long each node
/// stays up. A node that outlives the duration gets 1; one that goes down first gets less than one half, in proportion
/// to the share of the duration it stays up (a rank among doomed nodes, not a probability). Given to
/// <see cref="PredictivePolicy"/> in place of the predictor, it shows what the same policy and pass would reach if
/// availability were predicted without error: <c>schedule-sim</c> prints it as the policy <c>oracle</c>.
/// </summary>
public sealed class TraceForecast(FleetTrace fleet) : ISurvivalForecast
{
    private readonly Dictionary<string, IReadOnlyList<(double Start, double End)>> _up =
        fleet.Nodes.ToDictionary(n => n.NodeId, n => n.Up, StringComparer.Ordinal);

    public double ProbabilityUp(NodeCandidate node, DateTimeOffset now, TimeSpan duration)
    {
        var need = duration.TotalHours;
        var left = UpFor(node.NodeId, (now - ScheduleSimulation.Epoch).TotalHours);
        return left + Slack >= need ? 1 : 0.5 * left / need;
    }

    /// <summary>Hours lost converting event times to <see cref="DateTimeOffset"/> and back (far below a millisecond).</summary>
    private const double Slack = 1e-6;

    /// <summary>Hours from <paramref name="hours"/> until the node next goes down (0 when it is down).</summary>
    private double UpFor(string nodeId, double hours)
    {
        var up = _up[nodeId];
        int low = 0, high = up.Count - 1;
        while (low <= high)
        {
            var mid = (low + high) / 2;
            if (up[mid].End <= hours)
            {
                low = mid + 1;
            }
            else if (up[mid].Start > hours + Slack)
            {
                high = mid - 1;
            }
            else
            {
                return up[mid].End - hours;
            }
        }

        return 0;
    }
}
