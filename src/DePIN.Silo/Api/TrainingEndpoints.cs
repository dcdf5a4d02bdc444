using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Training;
using DePIN.Grains;
using DePIN.Grains.Nodes;
using DePIN.Grains.Training;
using DePIN.Silo.Nodes;
using Microsoft.Extensions.Options;

namespace DePIN.Silo.Api;

/// <summary>
/// Training workers' side (<c>/v1/nodes/{id}/training</c>, signed with the node's key like all work traffic): fetch a
/// slot's round and send its delta. And the model registry (<c>/v1/models/{hash}</c>), readable by anyone: a model
/// version is named by its weights' hash, so its weights check themselves.
/// </summary>
public static class TrainingEndpoints
{
    public static IEndpointRouteBuilder MapTrainingEndpoints(this IEndpointRouteBuilder app)
    {
        var training = app.MapGroup("/v1/nodes/{id}/training").WithTags("Training");
        training.MapPost("/", Round)
            .Describe("TrainingRound", "The current round of a training slot the node holds: the global parameters, the normaliser and the work. Long-polls while the node's delta is in and the round still open.")
            .Accepts<TrainingPoll>("application/json")
            .Produces<TrainingRound>()
            .Problems(400, 401, 404, 409);

        training.MapPost("/deltas", Delta)
            .Describe("TrainingDelta", "A worker's delta for a round: 202 when counted, 409 when the round has closed (fetch the next one).")
            .Accepts<TrainingDeltaReport>("application/json")
            .Produces(StatusCodes.Status202Accepted)
            .Problems(400, 401, 404, 409, 413);

        var models = app.MapGroup("/v1/models").WithTags("Models");
        models.MapGet("/{hash}", Model)
            .Describe("GetModel", "A model version: the job and dataset snapshot that produced it, its task, normaliser and held-out metrics.")
            .Produces<ModelVersion>()
            .Problems(404);

        models.MapGet("/{hash}/weights", ModelWeights)
            .Describe("GetModelWeights", "The model's weights: little-endian float32, whose SHA-256 is the version's hash.")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .Problems(404);

        return app;
    }

    private static async Task<IResult> Round(
        string id, HttpRequest request, IGrainFactory grains, NodeKeyCache keys, PlatformClock clock, IOptions<NodeOptions> nodes,
        CancellationToken cancellationToken)
    {
        var (poll, problem) = await NodeSignedRequest.ReadJson<TrainingPoll>(id, request, 4 * 1024, keys, "training poll", cancellationToken);
        if (poll is null)
        {
            return problem!;
        }

        var errors = Check(id, poll.NodeId, poll.JobKey, poll.Timestamp, clock, nodes.Value.MaxClockSkew);
        if (!(poll.WaitSeconds is >= 0 and <= WorkRules.MaxPollSeconds))
        {
            errors["waitSeconds"] = [$"must be between 0 and {WorkRules.MaxPollSeconds}"];
        }

        if (errors.Count > 0)
        {
            return Problems.Malformed("training poll", errors);
        }

        if (await Shard(grains, poll.NodeId, poll.JobKey, poll.Slot, poll.Attempt) is not { } shard)
        {
            return Problems.Superseded(poll.JobKey, poll.Slot, poll.Attempt);
        }

        var round = await grains.GetGrain<ITrainingGrain>(poll.JobKey).Round(shard, poll.KnownRound, TimeSpan.FromSeconds(poll.WaitSeconds))
            .WaitAsync(cancellationToken);
        return TypedResults.Ok(round);
    }

    private static async Task<IResult> Delta(
        string id, HttpRequest request, IGrainFactory grains, NodeKeyCache keys, PlatformClock clock, IOptions<NodeOptions> nodes,
        CancellationToken cancellationToken)
    {
        var (report, problem) = await NodeSignedRequest.ReadJson<TrainingDeltaReport>(id, request, MaxDeltaBytes, keys, "delta", cancellationToken);
        if (report is null)
        {
            return problem!;
        }

        var errors = Check(id, report.NodeId, report.JobKey, report.Timestamp, clock, nodes.Value.MaxClockSkew);
        var delta = Weights.Decode(report.Delta);
        if (delta is null)
        {
            errors["delta"] = ["must be base64 of little-endian float32 values, all finite"];
        }

        if (errors.Count > 0)
        {
            return Problems.Malformed("delta", errors);
        }

        if (await Shard(grains, report.NodeId, report.JobKey, report.Slot, report.Attempt) is not { } shard)
        {
            return Problems.Superseded(report.JobKey, report.Slot, report.Attempt);
        }

        return await grains.GetGrain<ITrainingGrain>(report.JobKey).Submit(shard, report.Round, delta!) switch
        {
            DeltaOutcome.Accepted => TypedResults.Accepted((string?)null),
            DeltaOutcome.Late => Problems.RoundClosed(report.JobKey, report.Round),
            _ => Problems.Malformed("delta", new Dictionary<string, string[]> { ["delta"] = ["must have one finite value per model parameter"] }),
        };
    }

    private static async Task<IResult> Model(string hash, IGrainFactory grains) =>
        WorkRules.IsHash(hash) && await grains.GetGrain<IModelGrain>(hash).Get() is { } version
            ? TypedResults.Ok(version)
            : Problems.UnknownModel(hash);

    // The store exists only on PostgreSQL: a development silo (no connection string) has no models to serve.
    private static async Task<IResult> ModelWeights(string hash, IGrainFactory grains, IServiceProvider services, CancellationToken cancellationToken) =>
        WorkRules.IsHash(hash) && services.GetService<TrainingStore>() is { } store &&
        await grains.GetGrain<IModelGrain>(hash).Get() is not null && await store.Get(hash, cancellationToken) is { } weights
            ? TypedResults.Bytes(weights, "application/octet-stream")
            : Problems.UnknownModel(hash);

    internal static Dictionary<string, string[]> Check(string id, string nodeId, string jobKey, DateTimeOffset timestamp, PlatformClock clock, TimeSpan maxSkew)
    {
        var errors = Validation.CheckNodeRequest(id, nodeId, timestamp, clock.UtcNow, maxSkew);
        if (jobKey is null || jobKey.IndexOf('/', StringComparison.Ordinal) <= 0)
        {
            errors["jobKey"] = ["must be the job key of an assignment"];
        }

        return errors;
    }

    // The slot's shard; null unless the node holds the slot in the job's current attempt (only then is it heard).
    private static async Task<int?> Shard(IGrainFactory grains, string nodeId, string jobKey, int slot, int attempt)
    {
        var job = grains.GetGrain<IJobGrain>(jobKey);
        return await job.Holds(nodeId, slot, attempt) && await job.Get() is { } details ? slot % details.Spec.Replicas : null;
    }

    private const int MaxDeltaBytes = 4 * 1024 * 1024;
}
