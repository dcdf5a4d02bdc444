namespace DePIN.Core.Scheduling;

/// <summary>Where a job's replicas may run.</summary>
/// <param name="Regions">Allowed regions; empty means any.</param>
/// <param name="Near">A point the replicas must stay close to, with <paramref name="MaxDistanceKm"/> or <paramref name="MaxRoundTripMs"/>.</param>
/// <param name="MaxDistanceKm">Great-circle limit from <paramref name="Near"/>.</param>
/// <param name="MaxRoundTripMs">Fibre round-trip limit from <paramref name="Near"/> (see <see cref="Geo.RoundTripMs"/>).</param>
/// <param name="Labels">Labels every chosen node must carry.</param>
public sealed record PlacementConstraints(
    IReadOnlyList<string> Regions,
    GeoPoint? Near,
    double? MaxDistanceKm,
    double? MaxRoundTripMs,
    IReadOnlyList<string> Labels)
{
    public static PlacementConstraints None { get; } = new([], null, null, null, []);
}

/// <summary>A WGS 84 position in degrees.</summary>
public readonly record struct GeoPoint(double Latitude, double Longitude);

/// <summary>One placement question: where can all <paramref name="Replicas"/> replicas of a job run now.</summary>
/// <param name="JobId">The job, for reasons and logs.</param>
/// <param name="PerReplica">What each replica takes.</param>
/// <param name="MinGpuVramBytes">Video memory each GPU a replica gets must have.</param>
/// <param name="Replicas">Gang size: all are placed or none.</param>
/// <param name="Duration">How long the replicas still have to run: the horizon availability is predicted over.</param>
/// <param name="Constraints">Regions, distance and labels.</param>
/// <param name="DistinctNodes">Every replica on its own node (redundant execution needs independent machines).</param>
/// <param name="Waited">How long the job has been waiting for this placement.</param>
/// <param name="FleetLoad">Share of the fleet's up capacity (GPUs when the job wants GPUs, else cores) already allocated.</param>
/// <param name="MaxNodesToScore">Feasible nodes a policy scores at most (see <see cref="Gang.Feasible"/>).</param>
public sealed record PlacementRequest(
    string JobId,
    Resources PerReplica,
    long MinGpuVramBytes,
    int Replicas,
    TimeSpan Duration,
    PlacementConstraints Constraints,
    bool DistinctNodes = false,
    TimeSpan Waited = default,
    double FleetLoad = 0,
    int MaxNodesToScore = int.MaxValue);

/// <summary>The outcome of one placement question.</summary>
/// <param name="Nodes">One node id per replica (a node may appear more than once) when placed; empty otherwise.</param>
/// <param name="SuccessProbability">The predicted chance that every chosen node stays up for the duration; null for policies that do not predict.</param>
/// <param name="Reason">Why nothing was placed; null when placed.</param>
public sealed record PlacementDecision(IReadOnlyList<string> Nodes, double? SuccessProbability, string? Reason)
{
    public bool Placed => Reason is null;

    public static PlacementDecision Wait(string reason) => new([], null, reason);
}
