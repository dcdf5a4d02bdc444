using DePIN.Abstractions.Inference;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Training;
using DePIN.Grains;
using DePIN.Grains.Nodes;
using DePIN.Silo.Nodes;
using Microsoft.Extensions.Options;

namespace DePIN.Silo.Api;

/// <summary>
/// Edge inference: <c>POST /v1/models/{hash}/infer</c> routes a request to a node serving that model version and
/// answers with the model's output and the node's signed receipt. The nodes' agents long-poll for requests and post
/// answers (<c>/v1/nodes/{id}/inference</c>, signed with the node's key; only a node holding a slot of an inference
/// job of that model is heard).
/// </summary>
public static class InferenceEndpoints
{
    public static IEndpointRouteBuilder MapInferenceEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/models/{hash}/infer", Infer)
            .WithTags("Models")
            .Describe("Infer", "Runs the model on an input at the node expected to answer soonest (within the residency region, if given); fails over when a node does not answer.")
            .Accepts<InferenceRequest>("application/json")
            .Produces<InferenceResult>()
            .Problems(400, 404, 503);

        var serving = app.MapGroup("/v1/nodes/{id}/inference").WithTags("Inference");
        serving.MapPost("/", Poll)
            .Describe("PollInference", "A serving node's long-poll for requests to the model of the inference slot it holds.")
            .Accepts<InferencePoll>("application/json")
            .Produces<InferenceTask[]>()
            .Problems(400, 401, 409);

        serving.MapPost("/answers", Answer)
            .Describe("AnswerInference", "A serving node's answers, each with its signed receipt.")
            .Accepts<InferenceAnswers>("application/json")
            .Produces(StatusCodes.Status202Accepted)
            .Problems(400, 401, 409);

        return app;
    }

    private static async Task<IResult> Infer(string hash, HttpRequest request, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (!WorkRules.IsHash(hash) || await grains.GetGrain<IModelGrain>(hash).Get() is not { } model)
        {
            return Problems.UnknownModel(hash);
        }

        var (input, problem) = await JsonBody.Read<InferenceRequest>(request, 16 * 1024, "inference request", cancellationToken);
        if (input is null)
        {
            return problem!;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (input.At.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            errors["at"] = ["must be whole milliseconds"];
        }

        if (input.Residency is { } residency && !RegionCode.IsValid(residency))
        {
            errors["residency"] = ["is not a region code"];
        }

        byte[]? canonical = null;
        try
        {
            canonical = input.Canonical(hash);
            var record = DePIN.Core.Datasets.Contribution.FromCanonical(canonical)!;
            if (model.Work.Task().Features(record) is null)
            {
                errors["values"] = [$"must hold the model's inputs: {string.Join(", ", model.Work.Inputs.Where(i => !i.StartsWith('@')).Select(i => i.Split(':')[0]))}"];
            }
        }
        catch (ArgumentException e)
        {
            errors["values"] = [e.Message];
        }

        if (errors.Count > 0)
        {
            return Problems.Malformed("inference request", errors);
        }

        var routed = await grains.GetGrain<IServingGrain>(hash).Infer(canonical!, input.Latitude, input.Longitude, input.Residency);
        if (routed.Receipt is not { } receipt)
        {
            return Problems.NoAnswer(hash, routed.Error ?? "No node answered.");
        }

        return TypedResults.Ok(new InferenceResult(receipt.Answer, receipt.Probabilities, receipt, routed.Attempts));
    }

    private static async Task<IResult> Poll(
        string id, HttpRequest request, IGrainFactory grains, NodeKeyCache keys, PlatformClock clock, IOptions<NodeOptions> nodes,
        CancellationToken cancellationToken)
    {
        var (poll, model, problem) = await Serving<InferencePoll>(id, request, 4 * 1024, grains, keys, clock, nodes.Value, cancellationToken,
            p => (p.NodeId, p.JobKey, p.Slot, p.Attempt, p.Timestamp),
            p => p.WaitSeconds is >= 0 and <= WorkRules.MaxPollSeconds ? null : ("waitSeconds", $"must be between 0 and {WorkRules.MaxPollSeconds}"));
        if (poll is null)
        {
            return problem!;
        }

        var details = (await grains.GetGrain<INodeGrain>(poll.NodeId).GetDetails())!;
        var node = details.Capabilities;
        var tasks = await grains.GetGrain<IServingGrain>(model!)
            .Poll(new ServingPlace(poll.NodeId, node.Region, node.Latitude, node.Longitude, details.Reputation.Score), TimeSpan.FromSeconds(poll.WaitSeconds))
            .WaitAsync(cancellationToken);
        return TypedResults.Ok(tasks);
    }

    private static async Task<IResult> Answer(
        string id, HttpRequest request, IGrainFactory grains, NodeKeyCache keys, PlatformClock clock, IOptions<NodeOptions> nodes,
        CancellationToken cancellationToken)
    {
        var (answers, model, problem) = await Serving<InferenceAnswers>(id, request, 1024 * 1024, grains, keys, clock, nodes.Value, cancellationToken,
            a => (a.NodeId, a.JobKey, a.Slot, a.Attempt, a.Timestamp), _ => null);
        if (answers is null)
        {
            return problem!;
        }

        var serving = grains.GetGrain<IServingGrain>(model!);
        await Task.WhenAll((answers.Answers ?? []).Select(a => serving.Answer(answers.NodeId, a.RequestId, a.Receipt)));
        return TypedResults.Accepted((string?)null);
    }

    /// <summary>A serving node's signed request, checked, with the model its slot serves; or the problem to answer with.</summary>
    private static async Task<(T? Body, string? Model, IResult? Problem)> Serving<T>(
        string id, HttpRequest request, int limit, IGrainFactory grains, NodeKeyCache keys, PlatformClock clock, NodeOptions nodes,
        CancellationToken cancellationToken, Func<T, (string NodeId, string JobKey, int Slot, int Attempt, DateTimeOffset Timestamp)> slot,
        Func<T, (string Field, string Message)?> extra)
        where T : class
    {
        var what = typeof(T) == typeof(InferencePoll) ? "inference poll" : "answers";
        var (body, problem) = await NodeSignedRequest.ReadJson<T>(id, request, limit, keys, what, cancellationToken);
        if (body is null)
        {
            return (null, null, problem);
        }

        var (nodeId, jobKey, slotIndex, attempt, timestamp) = slot(body);
        var errors = TrainingEndpoints.Check(id, nodeId, jobKey, timestamp, clock, nodes.MaxClockSkew);
        if (extra(body) is { } error)
        {
            errors[error.Field] = [error.Message];
        }

        if (errors.Count > 0)
        {
            return (null, null, Problems.Malformed(what, errors));
        }

        return await Model(grains, nodeId, jobKey, slotIndex, attempt) is { } model
            ? (body, model, null)
            : (null, null, Problems.Superseded(jobKey, slotIndex, attempt));
    }

    // The model a node serves: that of the inference slot it holds in the job's current attempt.
    private static async Task<string?> Model(IGrainFactory grains, string nodeId, string jobKey, int slot, int attempt)
    {
        var job = grains.GetGrain<IJobGrain>(jobKey);
        return await job.Holds(nodeId, slot, attempt) && await job.Get() is { Spec.Inference: { } inference } ? inference.ModelHash : null;
    }
}
