using System.Globalization;
using DePIN.Abstractions.Datasets;
using DePIN.Grains.Datasets;
using DePIN.Silo.Tenancy;
using Microsoft.Extensions.Options;

namespace DePIN.Silo.Api;

/// <summary>
/// <c>/v1/datasets</c>: tenants (or operators) create datasets; nodes contribute records they signed; anyone reads
/// tree heads and proofs, which verify with nothing but public keys (<c>/v1/platform/keys</c>).
/// </summary>
public static class DatasetEndpoints
{
    public static IEndpointRouteBuilder MapDatasetEndpoints(this IEndpointRouteBuilder app)
    {
        var datasets = app.MapGroup("/v1/datasets").WithTags("Datasets");

        datasets.MapPut("/{name}", Create)
            .Describe("CreateDataset", "Creates a dataset with its schema, licence, owner and contributor policy; the same definition again changes nothing.")
            .Accepts<DatasetDefinition>("application/json")
            .CreatedOrFound<DatasetInfo>()
            .Problems(400, 401, 409);

        datasets.MapGet("/{name}", Get)
            .Describe("GetDataset", "Returns the dataset's definition and latest signed tree head.")
            .Produces<DatasetInfo>()
            .Problems(404);

        datasets.MapPost("/{name}/contributions", Contribute)
            .Describe("Contribute", "Appends a record signed by a registered node; answers once it is durable, with its leaf and a signed tree head. The same record again returns the first receipt.")
            .Accepts<ContributionRequest>("application/json")
            .CreatedOrFound<ContributionReceipt>()
            .Problems(400, 401, 403, 404, 413);

        datasets.MapGet("/{name}/records/{contentHash}", FindRecord)
            .Describe("FindRecord", "The leaf index of a record by its content hash (hex SHA-256 of its canonical bytes).")
            .Produces<RecordLocation>()
            .Problems(404);

        datasets.MapGet("/{name}/proofs/inclusion", ProveInclusion)
            .Describe("ProveInclusion", "RFC 9162 inclusion proof of ?leaf= in the tree of ?size= leaves.")
            .Produces<MerkleProofView>()
            .Problems(400, 404);

        datasets.MapGet("/{name}/proofs/consistency", ProveConsistency)
            .Describe("ProveConsistency", "RFC 9162 consistency proof from the tree of ?first= leaves to the tree of ?second= leaves.")
            .Produces<MerkleProofView>()
            .Problems(400, 404);

        datasets.MapPost("/{name}/snapshots", TakeSnapshot)
            .Describe("TakeSnapshot", "Takes a snapshot at the current signed tree head (the owner or an operator); the same size again returns the same snapshot.")
            .CreatedOrFound<SnapshotManifest>()
            .Problems(401, 404);

        datasets.MapGet("/{name}/snapshots/{size:long}", GetSnapshot)
            .Describe("GetSnapshot", "The manifest of the snapshot taken at that size: head, definition, sources and their diversity.")
            .Produces<SnapshotManifest>()
            .Problems(404);

        datasets.MapGet("/{name}/snapshots/{size:long}/records", Export)
            .Describe("ExportSnapshot", "The snapshot's records in leaf order, ?format=json (default; each as posted, with leaf and address) or csv.")
            .Problems(400, 404);

        app.MapGet("/v1/platform/keys", Keys)
            .WithTags("Datasets")
            .Describe("PlatformKeys", "The platform's public keys: the Ed25519 key that signs tree heads.")
            .Produces<PlatformKeys>()
            .Problems(503);

        return app;
    }

    /// <summary>Dataset names: 1 to 64 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit.</summary>
    public static bool IsName(string name) =>
        name.Length is > 0 and <= 64 && char.IsAsciiLetterLower(name[0]) | char.IsAsciiDigit(name[0])
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.');

    private static async Task<IResult> Create(
        string name, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api, CancellationToken cancellationToken)
    {
        var (caller, denied) = await Caller.Authenticate(request, grains, api.Value);
        if (caller is null)
        {
            return denied!;
        }

        if (!IsName(name))
        {
            return BadName();
        }

        var (definition, problem) = await JsonBody.Read<DatasetDefinition>(request, api.Value.MaxJobSpecBytes, "dataset definition", cancellationToken);
        if (definition is null)
        {
            return problem!;
        }

        var errors = new Dictionary<string, string[]>();
        if (!caller.IsOperator && definition.Owner != caller.Tenant)
        {
            errors["owner"] = [$"must be your tenant, '{caller.Tenant}'"];
        }

        if (DatasetGrain.Problems(definition) is { Count: > 0 } problems)
        {
            errors["definition"] = [.. problems];
        }

        if (errors.Count > 0)
        {
            return Problems.Malformed("dataset definition", errors);
        }

        var grain = grains.GetGrain<IDatasetGrain>(name);
        var existed = await grain.Get() is not null;
        if (await grain.Create(definition) is { } refused)
        {
            return existed ? Problems.DatasetConflict(name, refused) : Problems.DatasetUnavailable(refused);
        }

        var info = await grain.Get();
        return existed ? TypedResults.Ok(info) : TypedResults.Created($"/v1/datasets/{name}", info);
    }

    private static async Task<IResult> Get(string name, IGrainFactory grains) =>
        IsName(name) && await grains.GetGrain<IDatasetGrain>(name).Get() is { } info ? TypedResults.Ok(info) : Problems.UnknownDataset(name);

    private static async Task<IResult> Contribute(
        string name, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api, CancellationToken cancellationToken)
    {
        if (!IsName(name))
        {
            return Problems.UnknownDataset(name);
        }

        var (body, problem) = await JsonBody.Read<ContributionRequest>(request, api.Value.MaxContributionBytes, "contribution", cancellationToken);
        if (body is null)
        {
            return problem!;
        }

        var (signed, errors) = Contributions.Parse(body);
        if (signed is null)
        {
            return Problems.Malformed("contribution", errors);
        }

        var result = await grains.GetGrain<IDatasetGrain>(name).Contribute(signed);
        if (result.Receipt is { } receipt)
        {
            return receipt.Duplicate ? TypedResults.Ok(receipt) : TypedResults.Created($"/v1/datasets/{name}/records/{receipt.ContentHash}", receipt);
        }

        var rejection = result.Rejection!;
        return rejection.Reason switch
        {
            ContributionReasons.UnknownDataset => Problems.UnknownDataset(name),
            ContributionReasons.BadSignature => Problems.BadSignature(rejection.Detail),
            ContributionReasons.UnknownContributor or ContributionReasons.Unauthorised or ContributionReasons.Quarantined => Problems.NotAContributor(rejection.Reason, rejection.Detail),
            ContributionReasons.NearDuplicate => Problems.NearDuplicate(rejection.Detail),
            ContributionReasons.Schema => Problems.Malformed("record", rejection.Fields!.ToDictionary(f => $"record.values.{f.Key}", f => f.Value)),
            _ => Problems.Malformed("contribution", new Dictionary<string, string[]> { ["record"] = [rejection.Detail] }),
        };
    }

    private static async Task<IResult> FindRecord(string name, string contentHash, IGrainFactory grains) =>
        IsName(name) && await grains.GetGrain<IDatasetGrain>(name).Find(contentHash.ToLowerInvariant()) is { } index
            ? TypedResults.Ok(new RecordLocation(contentHash.ToLowerInvariant(), index))
            : Problems.UnknownRecord(name, contentHash);

    private static Task<IResult> ProveInclusion(string name, HttpRequest request, IGrainFactory grains) =>
        Prove(name, request, grains, ("leaf", "size"), (d, leaf, size) => d.ProveInclusion(leaf, size), (leaf, size) => $"leaf {leaf} in a tree of {size}");

    private static Task<IResult> ProveConsistency(string name, HttpRequest request, IGrainFactory grains) =>
        Prove(name, request, grains, ("first", "second"), (d, first, second) => d.ProveConsistency(first, second), (first, second) => $"tree sizes {first} and {second}");

    /// <summary>A proof named by two whole-number query parameters.</summary>
    private static async Task<IResult> Prove(
        string name, HttpRequest request, IGrainFactory grains, (string A, string B) parameters,
        Func<IDatasetGrain, long, long, Task<MerkleProofView?>> prove, Func<long, long, string> describe)
    {
        var errors = new Dictionary<string, string[]>();
        Validation.CheckParameters(request, errors, parameters.A, parameters.B);
        var a = Count(request, parameters.A, errors);
        var b = Count(request, parameters.B, errors);
        if (errors.Count > 0)
        {
            return Problems.Malformed("proof request", errors);
        }

        return IsName(name) && await prove(grains.GetGrain<IDatasetGrain>(name), a, b) is { } proof
            ? TypedResults.Ok(proof)
            : Problems.NoProof(name, describe(a, b));
    }

    private static async Task<IResult> TakeSnapshot(string name, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api)
    {
        var (caller, denied) = await Caller.Authenticate(request, grains, api.Value);
        if (caller is null)
        {
            return denied!;
        }

        var dataset = grains.GetGrain<IDatasetGrain>(name);
        if (!IsName(name) || await dataset.Get() is not { } info || (!caller.IsOperator && info.Definition.Owner != caller.Tenant))
        {
            return Problems.UnknownDataset(name);
        }

        var existed = await dataset.GetSnapshot(info.TreeHead.Size) is not null;
        var manifest = await dataset.Snapshot();
        return existed ? TypedResults.Ok(manifest) : TypedResults.Created($"/v1/datasets/{name}/snapshots/{manifest!.Size}", manifest);
    }

    private static async Task<IResult> GetSnapshot(string name, long size, IGrainFactory grains) =>
        IsName(name) && await grains.GetGrain<IDatasetGrain>(name).GetSnapshot(size) is { } manifest
            ? TypedResults.Ok(manifest)
            : Problems.UnknownSnapshot(name, size);

    private static async Task<IResult> Export(string name, long size, HttpRequest request, HttpResponse response, IGrainFactory grains, IServiceProvider services)
    {
        var errors = new Dictionary<string, string[]>();
        Validation.CheckParameters(request, errors, "format");
        var format = request.Query["format"].ToString() is { Length: > 0 } given ? given : "json";
        if (format is not ("json" or "csv"))
        {
            errors["format"] = ["must be json or csv"];
        }

        if (errors.Count > 0)
        {
            return Problems.Malformed("export request", errors);
        }

        if (!IsName(name) || await grains.GetGrain<IDatasetGrain>(name).GetSnapshot(size) is not { } manifest || services.GetService<DatasetLog>() is not { } log)
        {
            return Problems.UnknownSnapshot(name, size);
        }

        var records = log.Records(name, manifest.Size, request.HttpContext.RequestAborted);
        return format == "csv"
            ? Results.Stream(stream => SnapshotExport.Csv(stream, manifest, records), "text/csv; charset=utf-8", $"{name}-{size}.csv")
            : Results.Stream(stream => SnapshotExport.Json(stream, records), "application/json");
    }

    private static async Task<IResult> Keys(IServiceProvider services)
    {
        if (services.GetService<PlatformSigner>() is not { } signer)
        {
            return Problems.DatasetUnavailable("Datasets need PostgreSQL: start the silo with ConnectionStrings:depin.");
        }

        return TypedResults.Ok(new PlatformKeys(await signer.KeyId(), Convert.ToBase64String(await signer.PublicKey())));
    }

    private static long Count(HttpRequest request, string parameter, Dictionary<string, string[]> errors)
    {
        if (long.TryParse(request.Query[parameter], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors[parameter] = ["is required: a whole number, 0 or more"];
        return 0;
    }

    private static IResult BadName() => Problems.Malformed("dataset name", new Dictionary<string, string[]>
    {
        ["name"] = ["must be 1 to 64 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit"],
    });
}
