using System.Globalization;
using DePIN.Abstractions.Nodes;

namespace DePIN.Abstractions.Jobs;

/// <summary>The shape a job spec and a job id must have, checked the same way by the API and the job grain.</summary>
public static class JobSpecRules
{
    public const int MaxReplicas = 4096;
    public const int MaxListEntries = 32;
    public const int MaxPriority = 1000;
    public const int MaxRedundancy = 9;
    public const double MaxEstimatedSeconds = 30 * 24 * 3600;
    public const long MaxBatchSteps = 1_000_000_000_000;

    /// <summary>Whether a client-chosen job id is usable: 1–128 of letters, digits, '-', '_', '.', starting with a letter or digit.</summary>
    public static bool IsJobId(string? id) =>
        id is { Length: > 0 and <= 128 } && char.IsAsciiLetterOrDigit(id[0]) &&
        id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>Problems by JSON path (camelCase); empty when the spec is valid.</summary>
    public static Dictionary<string, string[]> Check(JobSpec spec)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Fail(string field, string message) => errors[field] = [message];

        if (!Enum.IsDefined(spec.Kind))
        {
            Fail("kind", "must be training, inference or batch");
        }

        var r = spec.Resources;
        if (r.CpuCores < 1)
        {
            Fail("resources.cpuCores", "must be at least 1");
        }

        if (r.MemoryBytes <= 0)
        {
            Fail("resources.memoryBytes", "must be more than 0");
        }

        if (r.Gpus < 0)
        {
            Fail("resources.gpus", "must not be negative");
        }

        if (r.MinGpuVramBytes < 0)
        {
            Fail("resources.minGpuVramBytes", "must not be negative");
        }

        if (spec.Replicas is < 1 or > MaxReplicas)
        {
            Fail("replicas", $"must be between 1 and {MaxReplicas}");
        }

        if (spec.Priority is < 0 or > MaxPriority)
        {
            Fail("priority", $"must be between 0 and {MaxPriority}");
        }

        if (!(spec.EstimatedSeconds is > 0 and <= MaxEstimatedSeconds))
        {
            Fail("estimatedSeconds", string.Create(CultureInfo.InvariantCulture, $"must be more than 0 and at most {MaxEstimatedSeconds} (30 days)"));
        }

        if (!(spec.CheckpointSeconds >= 0 && spec.CheckpointSeconds <= MaxEstimatedSeconds))
        {
            Fail("checkpointSeconds", "must be 0 (never) or a positive number of seconds");
        }

        if (spec.Verification.Redundancy is < 1 or > MaxRedundancy)
        {
            Fail("verification.redundancy", $"must be between 1 and {MaxRedundancy}");
        }

        if (spec.MaxPricePerReplicaHour < 0)
        {
            Fail("maxPricePerReplicaHour", "must not be negative");
        }

        if (spec.Kind == JobKind.Batch && spec.Batch is null)
        {
            Fail("batch", "is required for batch jobs: the kernel's seed and steps");
        }
        else if (spec.Kind != JobKind.Batch && spec.Batch is not null)
        {
            Fail("batch", "is only for batch jobs");
        }
        else if (spec.Batch is { Steps: < 1 or > MaxBatchSteps })
        {
            Fail("batch.steps", $"must be between 1 and {MaxBatchSteps}");
        }

        if (spec.Kind == JobKind.Training && spec.Training is null)
        {
            Fail("training", "is required for training jobs: the dataset snapshot, the task and DiLoCo's settings");
        }
        else if (spec.Kind != JobKind.Training && spec.Training is not null)
        {
            Fail("training", "is only for training jobs");
        }
        else if (spec.Training is { } training)
        {
            foreach (var (field, messages) in training.Check())
            {
                errors[field] = messages;
            }

            if (spec.Verification.Redundancy > 1)
            {
                Fail("verification.redundancy", "must be 1 for training jobs: the coordinator checks every delta's shape, and the held-out split judges the model");
            }
        }

        if (spec.Kind == JobKind.Inference && spec.Inference is null)
        {
            Fail("inference", "is required for inference jobs: the model version to serve");
        }
        else if (spec.Kind != JobKind.Inference && spec.Inference is not null)
        {
            Fail("inference", "is only for inference jobs");
        }
        else if (spec.Inference is { } inference && !WorkRules.IsHash(inference.ModelHash))
        {
            Fail("inference.modelHash", "must be a model version's hash (lower-case hex SHA-256)");
        }

        var c = spec.Constraints;
        CheckList("constraints.regions", c.Regions, RegionCode.IsValid, "is not a region code", errors);
        CheckList("constraints.labels", c.Labels, IsLabel, "is not a label (1–64 of letters, digits, '-', '_', '.', ':', '=')", errors);
        if (c.NearLatitude.HasValue != c.NearLongitude.HasValue)
        {
            Fail("constraints.nearLatitude", "needs nearLongitude too, and the other way round");
        }
        else if (c.NearLatitude is { } lat && (!(lat is >= -90 and <= 90) || !(c.NearLongitude!.Value is >= -180 and <= 180)))
        {
            Fail("constraints.nearLatitude", "must be a latitude within ±90 and a longitude within ±180");
        }

        if ((c.MaxDistanceKm is not null || c.MaxLatencyMs is not null) && c.NearLatitude is null)
        {
            Fail("constraints.maxDistanceKm", "needs a point (nearLatitude, nearLongitude) to measure from");
        }

        if (c.MaxDistanceKm is <= 0 || c.MaxLatencyMs is <= 0 || c.MaxDistanceKm is double.NaN || c.MaxLatencyMs is double.NaN)
        {
            Fail("constraints.maxDistanceKm", "limits must be positive");
        }

        return errors;
    }

    private static bool IsLabel(string value) =>
        value is { Length: >= 1 and <= 64 } && value.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' or ':' or '=');

    private static void CheckList(string field, string[] values, Func<string, bool> valid, string message, Dictionary<string, string[]> errors)
    {
        if (values.Length > MaxListEntries)
        {
            errors[field] = [$"must have at most {MaxListEntries} entries"];
            return;
        }

        for (var i = 0; i < values.Length; i++)
        {
            if (!valid(values[i]))
            {
                errors[$"{field}[{i}]"] = [$"'{values[i]}' {message}"];
            }
        }
    }
}
