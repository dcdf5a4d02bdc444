using DePIN.Abstractions.Jobs;
using DePIN.Grains;
using DePIN.Grains.Nodes;
using DePIN.Silo.Nodes;
using Microsoft.Extensions.Options;

namespace DePIN.Silo.Api;

/// <summary>
/// <c>/v1/nodes/{id}/work</c>: agents long-poll for the replica slots their node should run and report on them. Both
/// are signed with the node's key, like telemetry.
/// </summary>
public static class WorkEndpoints
{
    public static IEndpointRouteBuilder MapWorkEndpoints(this IEndpointRouteBuilder app)
    {
        var work = app.MapGroup("/v1/nodes/{id}/work").WithTags("Work");

        work.MapPost("/", Poll)
            .Describe("PollWork", "Long-polls for the node's work: returns as soon as it differs from the version the agent has.")
            .WithDescription("Signed like telemetry. The answer lists every slot the node should run; a slot marked stop should checkpoint, report stopped and end; a slot that is gone should end at once.")
            .Accepts<WorkPoll>("application/json")
            .Produces<WorkSet>()
            .Problems(400, 401, 404, 413);

        work.MapPost("/reports", Report)
            .Describe("ReportWork", "Takes an agent's report on a slot: started, progress, checkpoint, completed, stopped or failed.")
            .WithDescription("Signed like telemetry. Reports are idempotent. 409 means the slot is no longer this node's: stop working on it.")
            .Accepts<WorkReport>("application/json")
            .Produces(StatusCodes.Status202Accepted)
            .Problems(400, 401, 404, 409, 413);

        return app;
    }

    private static async Task<IResult> Poll(
        string id, HttpRequest request, IGrainFactory grains, NodeKeyCache keys, PlatformClock clock,
        IOptions<NodeOptions> nodes, CancellationToken cancellationToken)
    {
        var (poll, problem) = await NodeSignedRequest.ReadJson<WorkPoll>(id, request, MaxPollBytes, keys, "poll", cancellationToken);
        if (poll is null)
        {
            return problem!;
        }

        var errors = Validation.CheckNodeRequest(id, poll.NodeId, poll.Timestamp, clock.UtcNow, nodes.Value.MaxClockSkew);
        if (!(poll.WaitSeconds is >= 0 and <= WorkRules.MaxPollSeconds))
        {
            errors["waitSeconds"] = [$"must be between 0 and {WorkRules.MaxPollSeconds}"];
        }

        if (errors.Count > 0)
        {
            return Problems.Malformed("poll", errors);
        }

        var work = await grains.GetGrain<INodeWorkGrain>(id).Poll(poll.Version, TimeSpan.FromSeconds(poll.WaitSeconds))
            .WaitAsync(cancellationToken);
        return TypedResults.Ok(work);
    }

    private static async Task<IResult> Report(
        string id, HttpRequest request, IGrainFactory grains, NodeKeyCache keys, PlatformClock clock,
        IOptions<NodeOptions> nodes, CancellationToken cancellationToken)
    {
        var (report, problem) = await NodeSignedRequest.ReadJson<WorkReport>(id, request, MaxReportBytes, keys, "report", cancellationToken);
        if (report is null)
        {
            return problem!;
        }

        var errors = Validation.CheckNodeRequest(id, report.NodeId, report.Timestamp, clock.UtcNow, nodes.Value.MaxClockSkew, WorkRules.Check(report));
        if (errors.Count > 0)
        {
            return Problems.Malformed("report", errors);
        }

        return await grains.GetGrain<IJobGrain>(report.JobKey).Report(report) switch
        {
            ReportOutcome.Accepted => TypedResults.Accepted((string?)null),
            ReportOutcome.Superseded => Problems.Superseded(report.JobKey, report.Slot, report.Attempt),
            _ => Problems.UnknownJob(report.JobKey),
        };
    }

    private const int MaxPollBytes = 4 * 1024;
    private const int MaxReportBytes = (WorkRules.MaxCheckpointBytes * 4 / 3) + (8 * 1024); // base64 blob plus the rest
}
