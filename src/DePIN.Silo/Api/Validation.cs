using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.Core.Identity;

namespace DePIN.Silo.Api;

/// <summary>Shape and range checks on API bodies; every failure names its field in JSON-path form.</summary>
public static class Validation
{
    public const int MaxTextLength = 128;
    public const int MaxGpus = 64;
    public const int MaxFaults = 64;

    public static Dictionary<string, string[]> Check(NodeRegistration registration, DateTimeOffset now, TimeSpan maxSkew)
    {
        var errors = new Errors();
        errors.Require(registration.PublicKey.Length == NodeIdentity.PublicKeyLength, "publicKey",
            $"must be a {NodeIdentity.PublicKeyLength}-byte Ed25519 public key in base64");
        errors.Require(registration.Timestamp <= now + maxSkew, "timestamp",
            $"is more than {maxSkew.TotalSeconds:0} s ahead of the platform's clock");

        var c = registration.Capabilities;
        errors.Require(c.CpuCores is >= 1 and <= 4096, "capabilities.cpuCores", "must be between 1 and 4096");
        errors.Require(c.MemoryBytes > 0, "capabilities.memoryBytes", "must be positive");
        errors.Require(c.DiskBytes >= 0, "capabilities.diskBytes", "must not be negative");
        errors.Require(double.IsFinite(c.BandwidthMbps) && c.BandwidthMbps >= 0, "capabilities.bandwidthMbps", "must not be negative");
        errors.Require(IsRegion(c.Region), "capabilities.region",
            $"must be 1 to {RegionCode.MaxLength} lower-case letters, digits or '-'");
        errors.Require(c.Latitude is >= -90 and <= 90, "capabilities.latitude", "must be between -90 and 90");
        errors.Require(c.Longitude is >= -180 and <= 180, "capabilities.longitude", "must be between -180 and 180");
        errors.Require(c.AgentVersion.Length is > 0 and <= MaxTextLength, "capabilities.agentVersion",
            $"must be 1 to {MaxTextLength} characters");
        errors.Require(c.Gpus.Length <= MaxGpus, "capabilities.gpus", $"must list at most {MaxGpus} GPUs");
        for (var i = 0; i < c.Gpus.Length && i < MaxGpus; i++)
        {
            errors.Require(c.Gpus[i].Model.Length is > 0 and <= MaxTextLength, $"capabilities.gpus[{i}].model",
                $"must be 1 to {MaxTextLength} characters");
            errors.Require(c.Gpus[i].VramBytes > 0, $"capabilities.gpus[{i}].vramBytes", "must be positive");
        }

        return errors.Found;
    }

    public static Dictionary<string, string[]> Check(
        TelemetryBatch batch, string nodeId, DateTimeOffset now, TimeSpan maxSkew, int maxSamples)
    {
        var errors = new Errors();
        errors.Require(batch.NodeId == nodeId, "nodeId", "must be the node id in the path");
        errors.Require(batch.Sequence >= 1, "sequence", "must be at least 1");
        errors.Require(batch.Timestamp <= now + maxSkew, "timestamp",
            $"is more than {maxSkew.TotalSeconds:0} s ahead of the platform's clock");
        errors.Require(batch.Samples.Length is >= 1 && batch.Samples.Length <= maxSamples, "samples",
            $"must hold 1 to {maxSamples} samples");

        for (var i = 0; i < batch.Samples.Length && i < maxSamples; i++)
        {
            var s = batch.Samples[i];
            var at = $"samples[{i}]";
            errors.Require(s.At <= batch.Timestamp, $"{at}.at", "must not be after the batch's timestamp");
            errors.Require(s.CpuUtilization is >= 0 and <= 1, $"{at}.cpuUtilization", "must be between 0 and 1");
            errors.Require(s.MemoryTotalBytes > 0, $"{at}.memoryTotalBytes", "must be positive");
            errors.Require(s.MemoryUsedBytes >= 0 && s.MemoryUsedBytes <= s.MemoryTotalBytes, $"{at}.memoryUsedBytes",
                "must be between 0 and memoryTotalBytes");
            errors.Require(s.DiskTotalBytes >= 0, $"{at}.diskTotalBytes", "must not be negative");
            errors.Require(s.DiskUsedBytes >= 0 && s.DiskUsedBytes <= s.DiskTotalBytes, $"{at}.diskUsedBytes",
                "must be between 0 and diskTotalBytes");
            errors.Require(IsRate(s.NetRxBytesPerSecond), $"{at}.netRxBytesPerSecond", "must not be negative");
            errors.Require(IsRate(s.NetTxBytesPerSecond), $"{at}.netTxBytesPerSecond", "must not be negative");
            errors.Require(IsRate(s.DiskReadBytesPerSecond), $"{at}.diskReadBytesPerSecond", "must not be negative");
            errors.Require(IsRate(s.DiskWriteBytesPerSecond), $"{at}.diskWriteBytesPerSecond", "must not be negative");
            errors.Require(s.PacketLoss is null or (>= 0 and <= 1), $"{at}.packetLoss", "must be between 0 and 1");
            errors.Require(s.LatencyMs is null or (>= 0 and <= 600_000), $"{at}.latencyMs", "must be between 0 and 600000");
            errors.Require(s.Gpus.Length <= MaxGpus, $"{at}.gpus", $"must list at most {MaxGpus} GPUs");
            for (var j = 0; j < s.Gpus.Length && j < MaxGpus; j++)
            {
                var g = s.Gpus[j];
                var gpu = $"{at}.gpus[{j}]";
                errors.Require(g.Index >= 0, $"{gpu}.index", "must not be negative");
                errors.Require(g.Utilization is >= 0 and <= 1, $"{gpu}.utilization", "must be between 0 and 1");
                errors.Require(g.MemoryUsedBytes >= 0, $"{gpu}.memoryUsedBytes", "must not be negative");
                errors.Require(g.TemperatureC is >= -50 and <= 150, $"{gpu}.temperatureC", "must be between -50 and 150");
                errors.Require(IsRate(g.PowerWatts), $"{gpu}.powerWatts", "must not be negative");
            }
        }

        var faults = batch.Faults ?? [];
        errors.Require(faults.Length <= MaxFaults, "faults", $"must list at most {MaxFaults} fault events");
        for (var i = 0; i < faults.Length && i < MaxFaults; i++)
        {
            var f = faults[i];
            errors.Require(f is not null && FaultKinds.All.Contains(f.Kind), $"faults[{i}].kind", $"must be one of {string.Join(", ", FaultKinds.All)}");
            errors.Require(f?.Detail is { Length: <= MaxTextLength * 4 }, $"faults[{i}].detail", $"must be at most {MaxTextLength * 4} characters");
            errors.Require(f is not null && f.At <= batch.Timestamp, $"faults[{i}].at", "must not be after the batch's timestamp");
        }

        return errors.Found;
    }

    public static bool IsRegion(string? region) => RegionCode.IsValid(region);

    /// <summary>
    /// What every body a node signs must hold besides its own fields: it names the node in the path, and its timestamp
    /// is within <paramref name="maxSkew"/> of the platform's clock, so a captured request cannot be replayed later.
    /// Adds to <paramref name="errors"/> when given (the body's own checks), else to a new map; returns the map.
    /// </summary>
    public static Dictionary<string, string[]> CheckNodeRequest(
        string pathId, string nodeId, DateTimeOffset timestamp, DateTimeOffset now, TimeSpan maxSkew,
        Dictionary<string, string[]>? errors = null)
    {
        errors ??= new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (nodeId != pathId)
        {
            errors["nodeId"] = ["must be the node id in the path"];
        }

        if ((timestamp - now).Duration() > maxSkew)
        {
            errors["timestamp"] = [$"must be within {maxSkew.TotalSeconds:0} s of the platform's clock"];
        }

        return errors;
    }

    /// <summary>
    /// A query parameter naming a value of <typeparamref name="TEnum"/> (case-insensitive, never a number); null when
    /// absent. A bad value adds an error under <paramref name="field"/> listing the allowed ones.
    /// </summary>
    public static TEnum? ParseFilter<TEnum>(string? value, string field, Dictionary<string, string[]> errors)
        where TEnum : struct, Enum
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length > 0 && char.IsLetter(value[0]) && Enum.TryParse<TEnum>(value, ignoreCase: true, out var parsed))
        {
            return parsed;
        }

        errors[field] = [$"must be one of {string.Join(", ", Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant()))}"];
        return null;
    }

    /// <summary>
    /// Adds an error for every query parameter the endpoint does not take, naming the ones it does: a misspelt filter
    /// is refused rather than silently ignored (which would return everything).
    /// </summary>
    public static void CheckParameters(HttpRequest request, Dictionary<string, string[]> errors, params string[] known)
    {
        foreach (var name in request.Query.Keys.Where(k => !known.Contains(k, StringComparer.Ordinal)))
        {
            errors[name] = [$"is not a parameter here; it takes {string.Join(", ", known)}"];
        }
    }

    private static bool IsRate(double value) => double.IsFinite(value) && value >= 0;

    private sealed class Errors
    {
        public Dictionary<string, string[]> Found { get; } = [];

        public void Require(bool condition, string field, string message)
        {
            if (!condition)
            {
                Found[field] = [message];
            }
        }
    }
}
