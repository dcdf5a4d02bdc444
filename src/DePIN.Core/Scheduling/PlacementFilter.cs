namespace DePIN.Core.Scheduling;

/// <summary>The constraints that do not change while a job waits: region, distance, labels, GPU model.</summary>
public static class PlacementFilter
{
    /// <summary>Whether one replica of the request could ever run on the node, were it empty.</summary>
    public static bool Eligible(PlacementRequest request, NodeCandidate node)
    {
        if (!node.Capacity.Holds(request.PerReplica))
        {
            return false;
        }

        if (request.PerReplica.Gpus > 0 && node.GpuVramBytes < request.MinGpuVramBytes)
        {
            return false;
        }

        var constraints = request.Constraints;
        if (constraints.Regions.Count > 0 && !Contains(constraints.Regions, node.Region))
        {
            return false;
        }

        if (constraints.Near is { } near && (constraints.MaxDistanceKm is not null || constraints.MaxRoundTripMs is not null))
        {
            var km = Geo.DistanceKm(near.Latitude, near.Longitude, node.Latitude, node.Longitude);
            if (km > constraints.MaxDistanceKm || Geo.RoundTripMs(km) > constraints.MaxRoundTripMs)
            {
                return false;
            }
        }

        foreach (var label in constraints.Labels)
        {
            if (!node.Labels.Contains(label))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Why no placement of the request can ever exist on these nodes even with all of them empty and up, or null
    /// when one can; with the request field at fault (<c>resources</c> or <c>replicas</c>). A job with a reason is
    /// unschedulable: waiting will not help.
    /// </summary>
    public static (string Field, string Reason)? Impossible(PlacementRequest request, IEnumerable<NodeCandidate> nodes)
    {
        var eligible = 0;
        long slots = 0;
        foreach (var node in nodes)
        {
            if (Eligible(request, node))
            {
                eligible++;
                slots += request.DistinctNodes ? 1 : Math.Min(node.Capacity.CopiesOf(request.PerReplica), request.Replicas);
            }
        }

        if (eligible == 0)
        {
            return ("resources", "No registered node satisfies the replica's resources and constraints " +
                   $"({Describe(request)}).");
        }

        if (slots < request.Replicas)
        {
            return ("replicas", $"The gang needs {request.Replicas} replicas at once, but the eligible nodes can hold at most {slots} " +
                   $"({Describe(request)}{(request.DistinctNodes ? ", one per node" : "")}).");
        }

        return null;
    }

    private static bool Contains(IReadOnlyList<string> values, string value)
    {
        foreach (var v in values)
        {
            if (string.Equals(v, value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static string Describe(PlacementRequest request)
    {
        var parts = new List<string>
        {
            $"{request.PerReplica.CpuCores} cores",
            $"{request.PerReplica.MemoryBytes / (1 << 20)} MiB",
        };
        if (request.PerReplica.Gpus > 0)
        {
            parts.Add($"{request.PerReplica.Gpus} GPU(s) with at least {request.MinGpuVramBytes / (1 << 20)} MiB VRAM");
        }

        var c = request.Constraints;
        if (c.Regions.Count > 0)
        {
            parts.Add("regions " + string.Join(", ", c.Regions));
        }

        if (c.Near is { } near)
        {
            parts.Add($"within {(c.MaxDistanceKm is { } km ? $"{km} km" : $"{c.MaxRoundTripMs} ms")} of {near.Latitude},{near.Longitude}");
        }

        if (c.Labels.Count > 0)
        {
            parts.Add("labels " + string.Join(", ", c.Labels));
        }

        return string.Join(", ", parts);
    }
}
