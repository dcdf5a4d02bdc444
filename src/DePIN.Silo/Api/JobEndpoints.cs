using DePIN.Abstractions;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Training;
using DePIN.Silo.Tenancy;
using Microsoft.Extensions.Options;

namespace DePIN.Silo.Api;

/// <summary>
/// <c>/v1/jobs</c> for tenants (API key in <c>Authorization: Bearer</c>) and <c>/v1/tenants</c> for operators. A tenant's
/// job ids are its own: another tenant's job answers 404 exactly as an unknown id does. Operators name the tenant with
/// <c>?tenant=</c>.
/// </summary>
public static class JobEndpoints
{
    public static IEndpointRouteBuilder MapJobEndpoints(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/v1/jobs").WithTags("Jobs");

        jobs.MapPut("/{id}", Submit)
            .Describe("SubmitJob", "Submits a job under an id the tenant chooses; the same spec again changes nothing.")
            .Accepts<JobSpec>("application/json")
            .CreatedOrFound<JobDetails>()
            .Problems(400, 401, 402, 409, 413);

        jobs.MapGet("/{id}", Get)
            .Describe("GetJob", "Returns one job.")
            .Produces<JobDetails>()
            .Problems(401, 404);

        jobs.MapGet("/", List)
            .Describe("ListJobs", "Lists the tenant's jobs by id, optionally in one state.")
            .Produces<JobSummary[]>()
            .Problems(400, 401);

        jobs.MapPost("/{id}/cancel", Cancel)
            .Describe("CancelJob", "Cancels a job unless it already ended; the body, with a reason, is optional.")
            .Accepts<CancelRequest>(isOptional: true, "application/json")
            .Produces<JobDetails>()
            .Problems(401, 404);

        jobs.MapGet("/{id}/events", Watch)
            .Describe("WatchJob", "Streams the job's status changes as server-sent events (text/event-stream), one JSON JobEvent each.")
            .Problems(401, 404);

        jobs.MapGet("/{id}/training", Training)
            .Describe("GetTraining", "A training job's rounds as its coordinator has them: the round, each closed round's deltas and held-out accuracy, the model.")
            .Produces<TrainingStatus>()
            .Problems(401, 404);

        app.MapPost("/v1/tenants", CreateTenant)
            .WithTags("Tenants")
            .Describe("CreateTenant", "Creates a tenant and returns its API key, once; the platform keeps only the key's hash. Operators only.")
            .Accepts<NewTenant>("application/json")
            .Produces<TenantCreated>(StatusCodes.Status201Created)
            .Problems(400, 401, 403, 409);

        return app;
    }

    private static async Task<IResult> Submit(
        string id, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api, CancellationToken cancellationToken)
    {
        var (caller, denied) = await Caller.Authenticate(request, grains, api.Value);
        if (caller is null)
        {
            return denied!;
        }

        if (caller.IsOperator)
        {
            return Problems.Malformed("request", new Dictionary<string, string[]> { ["authorization"] = ["jobs are submitted with a tenant's key"] });
        }

        if (!JobSpecRules.IsJobId(id))
        {
            return Problems.Malformed("job id", new Dictionary<string, string[]> { ["id"] = ["must be 1 to 128 letters, digits, '-', '_' or '.', starting with a letter or digit"] });
        }

        var (spec, problem) = await JsonBody.Read<JobSpec>(request, api.Value.MaxJobSpecBytes, "job spec", cancellationToken);
        if (spec is null)
        {
            return problem!;
        }

        var errors = JobSpecRules.Check(spec);
        if (errors.Count == 0)
        {
            await CheckRegions(spec, grains, errors);
            await CheckSnapshot(spec, grains, errors);
        }

        if (errors.Count == 0)
        {
            // A gang no placement could ever hold would wait forever: refuse it now, naming the field at fault.
            errors = await grains.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key).Impossible(spec);
        }

        if (errors.Count > 0)
        {
            return Problems.Malformed("job spec", errors);
        }

        var result = await grains.GetGrain<IJobGrain>(JobKey.For(caller.Tenant!, id)).Submit(spec);
        return result.Outcome switch
        {
            SubmitOutcome.Created => TypedResults.Created($"/v1/jobs/{id}", result.Job),
            SubmitOutcome.AlreadySubmitted => TypedResults.Ok(result.Job),
            SubmitOutcome.InsufficientFunds => Problems.InsufficientFunds(result.Detail ?? ""),
            _ => Problems.JobConflict(id),
        };
    }

    private static async Task<IResult> Get(string id, string? tenant, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api)
    {
        var (owner, problem) = await Owner(request, grains, api.Value, tenant);
        if (owner is null)
        {
            return problem!;
        }

        var job = JobSpecRules.IsJobId(id) ? await grains.GetGrain<IJobGrain>(JobKey.For(owner, id)).Get() : null;
        return job is null ? Problems.UnknownJob(id) : TypedResults.Ok(job);
    }

    private static async Task<IResult> Training(string id, string? tenant, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api)
    {
        var (owner, problem) = await Owner(request, grains, api.Value, tenant);
        if (owner is null)
        {
            return problem!;
        }

        var key = JobSpecRules.IsJobId(id) ? JobKey.For(owner, id) : null;
        var job = key is null ? null : await grains.GetGrain<IJobGrain>(key).Get();
        return job?.Spec.Kind == JobKind.Training
            ? TypedResults.Ok(await grains.GetGrain<ITrainingGrain>(key!).Status())
            : Problems.UnknownJob(id);
    }

    private static async Task<IResult> List(
        HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api,
        string? tenant = null, string? state = null, string? after = null, int? limit = null)
    {
        var (owner, problem) = await Owner(request, grains, api.Value, tenant);
        if (owner is null)
        {
            return problem!;
        }

        var errors = new Dictionary<string, string[]>();
        Validation.CheckParameters(request, errors, "state", "after", "limit", "tenant");
        var wanted = Validation.ParseFilter<JobStatus>(state, "state", errors);

        if (limit is < 1 or > JobQuery.MaxLimit)
        {
            errors["limit"] = [$"must be between 1 and {JobQuery.MaxLimit}"];
        }

        if (errors.Count > 0)
        {
            return Problems.Malformed("query", errors);
        }

        return TypedResults.Ok(await TenantJobs.List(grains, owner, new JobQuery(wanted, after, limit ?? JobQuery.DefaultLimit)));
    }

    private static async Task<IResult> Cancel(
        string id, string? tenant, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api, CancellationToken cancellationToken)
    {
        var (owner, problem) = await Owner(request, grains, api.Value, tenant);
        if (owner is null)
        {
            return problem!;
        }

        var reason = "cancelled by the tenant";
        if (request.ContentLength is > 0)
        {
            var (body, bad) = await JsonBody.Read<CancelRequest>(request, 4096, "cancel request", cancellationToken);
            if (body is null)
            {
                return bad!;
            }

            reason = body.Reason is { Length: > 0 and <= 512 } given ? given : reason;
        }

        var job = JobSpecRules.IsJobId(id) ? await grains.GetGrain<IJobGrain>(JobKey.For(owner, id)).Cancel(reason) : null;
        return job is null ? Problems.UnknownJob(id) : TypedResults.Ok(job);
    }

    private static async Task Watch(
        string id, string? tenant, HttpContext context, IClusterClient cluster, IOptions<ApiOptions> api, CancellationToken cancellationToken)
    {
        var (owner, problem) = await Owner(context.Request, cluster, api.Value, tenant);
        var job = owner is not null && JobSpecRules.IsJobId(id) ? cluster.GetGrain<IJobGrain>(JobKey.For(owner, id)) : null;
        var stream = job is null ? null : cluster.GetStreamProvider(StreamNames.Provider)
            .GetStream<JobEvent>(StreamId.Create(StreamNames.JobEvents, owner!));
        await ServerSentEvents.Watch(context, stream,
            new ServerSentEvents.Relay<JobEvent>(e => e.JobId == id, e => e.Status.ToString().ToLowerInvariant(), JobEvent.Marker, JobEvent.MarkerId),
            async () => await job!.Get() is { } now ? new JobEvent(id, now.Status, null, now.UpdatedAt, now.Reason) : null,
            () => problem ?? Problems.UnknownJob(id), cancellationToken);
    }

    private static async Task<IResult> CreateTenant(HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api, CancellationToken cancellationToken)
    {
        if (await Caller.RequireOperator(request, grains, api.Value) is { } refused)
        {
            return refused;
        }

        var (body, problem) = await JsonBody.Read<NewTenant>(request, 4096, "tenant", cancellationToken);
        if (body is null)
        {
            return problem!;
        }

        if (!TenantName.IsValid(body.Name))
        {
            return Problems.Malformed("tenant", new Dictionary<string, string[]> { ["name"] = ["must be 1 to 64 lower-case letters, digits or '-', starting with a letter or digit"] });
        }

        var (key, hash) = ApiKeys.Generate(body.Name);
        return await grains.GetGrain<ITenantGrain>(body.Name).Create(hash)
            ? TypedResults.Created($"/v1/tenants/{body.Name}", new TenantCreated(body.Name, key))
            : Problems.TenantExists(body.Name);
    }

    /// <summary>The tenant whose jobs the caller addresses: its own, or for an operator the one in <c>?tenant=</c>.</summary>
    private static async Task<(string? Tenant, IResult? Problem)> Owner(HttpRequest request, IGrainFactory grains, ApiOptions api, string? tenant)
    {
        var (caller, denied) = await Caller.Authenticate(request, grains, api);
        if (caller is null)
        {
            return (null, denied);
        }

        if (!caller.IsOperator)
        {
            return (caller.Tenant, null);
        }

        return TenantName.IsValid(tenant)
            ? (tenant, null)
            : (null, Problems.Malformed("query", new Dictionary<string, string[]> { ["tenant"] = ["operators name the tenant whose jobs they mean"] }));
    }

    /// <summary>A training job cites a snapshot, an inference job a model: they must exist, or the job could never start.</summary>
    private static async Task CheckSnapshot(JobSpec spec, IGrainFactory grains, Dictionary<string, string[]> errors)
    {
        if (spec.Training is { } training && DatasetEndpoints.IsName(training.Dataset) &&
            await grains.GetGrain<IDatasetGrain>(training.Dataset).GetSnapshot(training.SnapshotSize) is null)
        {
            errors["training.snapshotSize"] = [$"dataset '{training.Dataset}' has no snapshot at size {training.SnapshotSize}: take one first (POST /v1/datasets/{training.Dataset}/snapshots)"];
        }
        else if (spec.Training is { } named && !DatasetEndpoints.IsName(named.Dataset))
        {
            errors["training.dataset"] = ["is not a dataset name"];
        }

        if (spec.Inference is { } inference && await grains.GetGrain<IModelGrain>(inference.ModelHash).Get() is null)
        {
            errors["inference.modelHash"] = [$"is not a registered model version: {inference.ModelHash}"];
        }
    }

    /// <summary>Regions in constraints must be ones the platform knows: a typo would otherwise wait forever.</summary>
    private static async Task CheckRegions(JobSpec spec, IGrainFactory grains, Dictionary<string, string[]> errors)
    {
        if (spec.Constraints.Regions.Length == 0)
        {
            return;
        }

        var known = (await grains.GetGrain<IRegionCatalogGrain>(0).GetRegions()).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < spec.Constraints.Regions.Length; i++)
        {
            if (!known.Contains(spec.Constraints.Regions[i]))
            {
                errors[$"constraints.regions[{i}]"] = [$"'{spec.Constraints.Regions[i]}' is not a region any node has registered in"];
            }
        }
    }
}
