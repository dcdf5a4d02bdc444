using System.Text.Json;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.Grains;
using DePIN.Grains.Diagnostics;
using DePIN.Grains.Nodes;
using DePIN.Silo.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace DePIN.Silo.Api;

/// <summary>
/// Telemetry from node agents: one node's signed batch at <c>/v1/nodes/{id}/telemetry</c>, or many nodes' signed batches
/// relayed in one request at <c>/v1/telemetry</c>. Both take a batch through the same steps: the node's key, the
/// signature, the shape and fields, the node's rate, then its grain, which journals it before answering.
/// </summary>
public static class TelemetryEndpoints
{
    public static IEndpointRouteBuilder MapTelemetryEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/nodes/{id}/telemetry", Ingest)
            .WithTags("Nodes")
            .Describe("PostTelemetry", "Takes a signed telemetry batch from a node's agent.")
            .WithDescription("Signed like a registration. 202 once the batch is journaled and applied by the node's grain, so a crash cannot lose it; a batch whose sequence number is not above the last accepted one (a retry or a replay) is answered 202 too and changes nothing; one signed too long ago is refused (422).")
            .Accepts<TelemetryBatch>("application/json")
            .Produces(StatusCodes.Status202Accepted)
            .Problems(400, 401, 404, 413, 422, 429, 503);

        app.MapPost(RelayedTelemetry.Path, Relay)
            .WithTags("Nodes")
            .Describe("RelayTelemetry", "Takes many nodes' signed telemetry batches in one request (an agent of several nodes, a gateway).")
            .WithDescription("Body {\"batches\":[{\"nodeId\",\"signature\",\"batch\"}]}, each batch's bytes exactly as its node signed them. Every batch must verify and be well formed, or the whole request is refused with the problem of the first refused batch (its index in the detail, all of them under \"refused\") and nothing is taken. Then each goes to its node's grain, a node's batches in the request's order: 202 when all were journaled and applied (or were replays), 207 when some were not, with each batch's status (422 stale, 429 over the node's rate, 503 journal behind) in the same order as sent.")
            .Accepts<RelayEnvelopeDoc>("application/json")
            .Produces<RelayResults>(StatusCodes.Status202Accepted)
            .Produces<RelayResults>(StatusCodes.Status207MultiStatus)
            .Problems(400, 401, 404, 413);
        return app;
    }

    private static async Task<IResult> Ingest(
        string id, HttpRequest request, NodeKeyCache keys, IGrainFactory grains, PlatformClock clock, DePINMetrics metrics,
        IOptions<ApiOptions> api, IOptions<NodeOptions> nodes, CancellationToken cancellationToken)
    {
        var (signed, refused, reason) = await NodeSignedRequest.Read(id, request, api.Value.MaxTelemetryBytes, keys, cancellationToken);
        if (signed is null)
        {
            metrics.BatchRejected(reason!);
            return refused!;
        }

        using var body = signed;
        var (batch, problem) = Parse(body.Bytes, id, clock.UtcNow, api.Value, nodes.Value, metrics);
        return batch is null
            ? problem!
            : await Deliver(grains, batch, nodes.Value, metrics, request.HttpContext.Response) ?? TypedResults.Accepted((string?)null);
    }

    private static async Task<IResult> Relay(
        HttpRequest request, NodeKeyCache keys, IGrainFactory grains, PlatformClock clock, DePINMetrics metrics, RateLimits limits,
        IOptions<ApiOptions> apiOptions, IOptions<NodeOptions> nodeOptions, CancellationToken cancellationToken)
    {
        var (api, nodes) = (apiOptions.Value, nodeOptions.Value);
        using var body = await SignedBody.Read(request, api.MaxRelayBytes, cancellationToken);
        if (body is null)
        {
            metrics.BatchRejected(RejectReasons.Oversize);
            return Problems.Oversize(api.MaxRelayBytes);
        }

        var (items, error) = RelayEnvelope.Read(body.Memory, api.MaxRelayBatches);
        if (items is null)
        {
            metrics.BatchRejected(RejectReasons.Malformed);
            return Problems.Malformed("telemetry relay", new Dictionary<string, string[]> { [error!.Value.Field] = [error.Value.Message] });
        }

        // Every batch verified and well formed before any is taken: a bad one refuses the request and changes nothing.
        var batches = new TelemetryBatch[items.Length];
        var refused = new List<(int Index, IResult Problem)>();
        var now = clock.UtcNow;
        for (var i = 0; i < items.Length; i++)
        {
            var (nodeId, signature, bytes) = items[i];
            var problem = bytes.Length > api.MaxTelemetryBytes
                ? (Problems.Oversize(api.MaxTelemetryBytes), RejectReasons.Oversize)
                : await NodeSignedRequest.Verify(nodeId, bytes, signature, keys,
                    $"batches[{i}].signature must be the base64 Ed25519 signature of the batch's exact bytes, made with node {nodeId}'s key.");
            if (problem is { } p)
            {
                metrics.BatchRejected(p.Item2);
                refused.Add((i, p.Item1));
                continue;
            }

            var (batch, malformed) = Parse(bytes.Span, nodeId, now, api, nodes, metrics);
            if (batch is null)
            {
                refused.Add((i, malformed!));
                continue;
            }

            batches[i] = batch;
        }

        if (refused.Count > 0)
        {
            return RefusedRelay(refused);
        }

        // A node's batches in the request's order, the nodes side by side.
        var results = new RelayResult[batches.Length];
        var response = request.HttpContext.Response;
        await Task.WhenAll(Enumerable.Range(0, batches.Length).GroupBy(i => batches[i].NodeId, StringComparer.Ordinal).Select(async node =>
        {
            foreach (var i in node)
            {
                var batch = batches[i];
                var problem = limits.Node(batch.NodeId, response) is { } limited
                    ? Counted(limited, metrics, RejectReasons.RateLimited)
                    : await Deliver(grains, batch, nodes, metrics, response);
                results[i] = problem is null ? new RelayResult(batch.NodeId, batch.Sequence, StatusCodes.Status202Accepted) : ResultOf(batch, problem);
            }
        }));

        var accepted = results.Count(r => r.Status == StatusCodes.Status202Accepted);
        var answer = new RelayResults(accepted, results);
        return accepted == results.Length
            ? TypedResults.Json(answer, ApiJson.Options, statusCode: StatusCodes.Status202Accepted)
            : TypedResults.Json(answer, ApiJson.Options, statusCode: StatusCodes.Status207MultiStatus);
    }

    /// <summary>The batch parsed and checked against the node it came from; the problem (counted) when it is not a batch.</summary>
    private static (TelemetryBatch? Batch, IResult? Problem) Parse(
        ReadOnlySpan<byte> bytes, string nodeId, DateTimeOffset now, ApiOptions api, NodeOptions nodes, DePINMetrics metrics)
    {
        TelemetryBatch? batch;
        try
        {
            batch = JsonSerializer.Deserialize<TelemetryBatch>(bytes, ApiJson.Options);
        }
        catch (JsonException ex)
        {
            metrics.BatchRejected(RejectReasons.Malformed);
            return (null, Problems.Malformed("telemetry batch", ex));
        }

        var errors = batch is null
            ? new Dictionary<string, string[]> { ["body"] = ["must be a JSON object"] }
            : Validation.Check(batch, nodeId, now, nodes.MaxClockSkew, api.MaxSamplesPerBatch);
        if (errors.Count > 0)
        {
            metrics.BatchRejected(RejectReasons.Malformed);
            return (null, Problems.Malformed("telemetry batch", errors));
        }

        return (batch, null);
    }

    /// <summary>The batch to its node's grain: null once it is journaled and applied (or was a replay), the problem otherwise.</summary>
    private static async Task<IResult?> Deliver(IGrainFactory grains, TelemetryBatch batch, NodeOptions nodes, DePINMetrics metrics, HttpResponse response)
    {
        switch (await grains.GetGrain<INodeGrain>(batch.NodeId).Report(batch))
        {
            case TelemetryVerdict.Accepted or TelemetryVerdict.Replayed:
                return null;
            case TelemetryVerdict.Stale:
                return Problems.StaleBatch(nodes.MaxBatchAge);
            case TelemetryVerdict.UnknownNode:
                return Problems.UnknownNode(batch.NodeId);
            default:
                // The journal is behind: shed load; the agent retries.
                response.Headers.RetryAfter = "1";
                return Problems.Overloaded();
        }
    }

    private static IResult Counted(IResult problem, DePINMetrics metrics, string reason)
    {
        metrics.BatchRejected(reason);
        return problem;
    }

    private static RelayResult ResultOf(TelemetryBatch batch, IResult problem)
    {
        var details = Details(problem);
        return new RelayResult(batch.NodeId, batch.Sequence, details.Status ?? StatusCodes.Status500InternalServerError, details.Type, details.Title, details.Detail);
    }

    /// <summary>The first refused batch's problem, its index named, with every refused batch listed under <c>refused</c>.</summary>
    private static IResult RefusedRelay(List<(int Index, IResult Problem)> refused)
    {
        var (index, first) = refused[0];
        var details = Details(first);
        var answer = new ProblemDetails
        {
            Status = details.Status,
            Type = details.Type,
            Title = details.Title,
            Detail = $"batches[{index}]: {details.Detail}{(refused.Count > 1 ? $" ({refused.Count} batches refused; nothing was taken)" : " (nothing was taken)")}",
        };
        if (details is HttpValidationProblemDetails validation)
        {
            answer.Extensions["errors"] = validation.Errors.ToDictionary(e => $"batches[{index}].{e.Key}", e => e.Value);
        }

        answer.Extensions["refused"] = refused.Select(r =>
        {
            var d = Details(r.Problem);
            return new { index = r.Index, status = d.Status, type = d.Type, detail = d.Detail };
        }).ToArray();
        return TypedResults.Problem(answer);
    }

    private static ProblemDetails Details(IResult problem) =>
        problem is IValueHttpResult { Value: ProblemDetails details }
            ? details
            : throw new InvalidOperationException($"{problem.GetType().Name} carries no problem details.");

    /// <summary>The request body's shape, for the OpenAPI document.</summary>
    public sealed record RelayEnvelopeDoc(RelayItemDoc[] Batches);

    /// <summary>One relayed batch, for the OpenAPI document: <c>batch</c> is the node's batch as it signed it.</summary>
    public sealed record RelayItemDoc(string NodeId, string Signature, TelemetryBatch Batch);
}
