using DePIN.Abstractions;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Identity;
using DePIN.Grains;
using DePIN.Grains.Nodes;
using DePIN.Silo.Nodes;
using DePIN.Silo.Tenancy;
using Microsoft.Extensions.Options;

namespace DePIN.Silo.Api;

/// <summary>
/// <c>/v1/nodes</c>: registration from node agents (signed with the node's key), listings and lookups for everyone
/// else, maintenance for operators. Telemetry is in <see cref="TelemetryEndpoints"/>.
/// </summary>
public static class NodeEndpoints
{
    public static IEndpointRouteBuilder MapNodeEndpoints(this IEndpointRouteBuilder app)
    {
        var nodes = app.MapGroup("/v1/nodes").WithTags("Nodes");

        nodes.MapPost("/", Register)
            .Describe("RegisterNode", "Registers a node, or updates its capabilities.")
            .WithDescription("The body is signed as sent with the node's Ed25519 key; the base64 signature goes in the DePIN-Signature header. The node id is derived from the public key.")
            .Accepts<NodeRegistration>("application/json")
            .CreatedOrFound<NodeDetails>()
            .Problems(400, 401, 403, 409, 413);

        nodes.MapGet("/", List)
            .Describe("ListNodes", "Lists nodes from the directory, ordered by id.")
            .Produces<NodeSummary[]>()
            .Problems(400);

        nodes.MapGet("/{id}", Get)
            .Describe("GetNode", "Returns one node.")
            .Produces<NodeDetails>()
            .Problems(404);

        nodes.MapGet("/{id}/events", Watch)
            .Describe("WatchNode", "Streams the node's status changes as server-sent events (text/event-stream): its current status, then one JSON NodeEvent each change.")
            .Problems(404);

        nodes.MapPut("/{id}/maintenance", SetMaintenance)
            .Describe("SetNodeMaintenance", "Holds a node drained, keeps it in service, or lets its failure risk decide. Operators only.")
            .WithDescription("Body {\"mode\":\"auto\"|\"drain\"|\"keep\"}. Draining stops new placements and checkpoints and moves the node's running work; the node's maintenance block shows its risk and mode.")
            .Accepts<MaintenanceRequest>("application/json")
            .Produces<NodeDetails>()
            .Problems(400, 401, 403, 404);

        return app;
    }

    private static async Task<IResult> SetMaintenance(string id, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api, CancellationToken cancellationToken)
    {
        if (await Caller.RequireOperator(request, grains, api.Value) is { } refused)
        {
            return refused;
        }

        var (body, problem) = await JsonBody.Read<MaintenanceRequest>(request, 1024, "maintenance request", cancellationToken);
        if (body is null)
        {
            return problem!;
        }

        if (!Enum.IsDefined(body.Mode))
        {
            return Problems.Malformed("maintenance request", new Dictionary<string, string[]> { ["mode"] = ["must be one of auto, drain, keep"] });
        }

        var details = NodeIdentity.IsWellFormedNodeId(id) ? await grains.GetGrain<INodeGrain>(id).SetMaintenanceMode(body.Mode) : null;
        return details is null ? Problems.UnknownNode(id) : TypedResults.Ok(details);
    }

    private static async Task<IResult> Register(
        HttpRequest request, IGrainFactory grains, NodeKeyCache keys, PlatformClock clock,
        IOptions<ApiOptions> api, IOptions<NodeOptions> nodeOptions, CancellationToken cancellationToken)
    {
        using var body = await SignedBody.Read(request, api.Value.MaxRegistrationBytes, cancellationToken);
        if (body is null)
        {
            return Problems.Oversize(api.Value.MaxRegistrationBytes);
        }

        var (registration, problem) = JsonBody.Parse<NodeRegistration>(body, "registration");
        if (registration is null)
        {
            return problem!;
        }

        var errors = Validation.Check(registration, clock.UtcNow, nodeOptions.Value.MaxClockSkew);
        if (errors.Count > 0)
        {
            return Problems.Malformed("registration", errors);
        }

        if (NodeIdentity.TryImportPublicKey(registration.PublicKey) is not { } key)
        {
            return Problems.Malformed("registration", new Dictionary<string, string[]> { ["publicKey"] = ["is not a valid Ed25519 public key"] });
        }

        if (body.Signature is not { } signature || !NodeIdentity.Verify(key, body.Bytes, signature))
        {
            return Problems.BadSignature($"The {ApiJson.SignatureHeader} header must hold the base64 Ed25519 signature of the exact body, made with the key in publicKey.");
        }

        var nodeId = NodeIdentity.DeriveNodeId(registration.PublicKey);
        if (registration.NodeId is { } claimed && claimed != nodeId)
        {
            return Problems.KeyMismatch(claimed);
        }

        var result = await grains.GetGrain<INodeGrain>(nodeId).Register(registration);
        switch (result.Outcome)
        {
            case RegistrationOutcome.Created:
                keys.Remember(nodeId, key);
                return TypedResults.Created($"/v1/nodes/{nodeId}", result.Node);
            case RegistrationOutcome.Updated:
                return TypedResults.Ok(result.Node);
            case RegistrationOutcome.Stale:
                return Problems.StaleRegistration();
            default:
                return Problems.KeyMismatch(nodeId);
        }
    }

    private static async Task<IResult> List(
        HttpRequest request, IGrainFactory grains, string? status = null, string? region = null, string? after = null, int? limit = null)
    {
        var errors = new Dictionary<string, string[]>();
        Validation.CheckParameters(request, errors, "status", "region", "after", "limit");
        var wanted = Validation.ParseFilter<NodeStatus>(status, "status", errors);

        if (region is not null && !Validation.IsRegion(region))
        {
            errors["region"] = ["is not a region code"];
        }

        if (limit is < 1 or > NodeQuery.MaxLimit)
        {
            errors["limit"] = [$"must be between 1 and {NodeQuery.MaxLimit}"];
        }

        if (errors.Count > 0)
        {
            return Problems.Malformed("query", errors);
        }

        var nodes = await grains.GetGrain<INodeQueryGrain>(0)
            .List(new NodeQuery(wanted, region, after, limit ?? NodeQuery.DefaultLimit));
        return TypedResults.Ok(nodes);
    }

    private static async Task Watch(string id, HttpContext context, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var node = NodeIdentity.IsWellFormedNodeId(id) ? cluster.GetGrain<INodeGrain>(id) : null;
        var stream = node is null ? null : cluster.GetStreamProvider(StreamNames.Provider)
            .GetStream<NodeEvent>(StreamId.Create(StreamNames.NodeEvents, StreamNames.FleetKey));
        await ServerSentEvents.Watch(context, stream,
            new ServerSentEvents.Relay<NodeEvent>(e => e.NodeId == id, e => e.Current.ToString().ToLowerInvariant(), NodeEvent.Marker, NodeEvent.MarkerId),
            async () => await node!.GetDetails() is { } now
                ? new NodeEvent(id, now.Capabilities.Region, null, now.Status, now.StatusChangedAt, "current status")
                : null,
            () => Problems.UnknownNode(id), cancellationToken);
    }

    private static async Task<IResult> Get(string id, IGrainFactory grains)
    {
        if (!NodeIdentity.IsWellFormedNodeId(id))
        {
            return Problems.UnknownNode(id);
        }

        var details = await grains.GetGrain<INodeGrain>(id).GetDetails();
        return details is null ? Problems.UnknownNode(id) : TypedResults.Ok(details);
    }
}
