using System.Text.Json;
using System.Text.RegularExpressions;

namespace DePIN.Silo.Api;

/// <summary>RFC 9457 problem details with stable <c>type</c> URIs that clients can switch on.</summary>
public static partial class Problems
{
    private const string TypePrefix = "urn:depin:problem:";

    public static IResult Malformed(string what, IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: $"The {what} is malformed.", type: TypePrefix + "malformed");

    public static IResult Malformed(string what, JsonException error)
    {
        // A missing member is reported at the object's path; name the members instead.
        var missing = MissingMembers().Match(error.Message);
        if (missing.Success)
        {
            var prefix = FieldName(error.Path) is "body" ? "" : FieldName(error.Path) + ".";
            return Malformed(what, Quoted().Matches(missing.Groups[1].Value)
                .ToDictionary(m => prefix + m.Groups[1].Value, _ => (string[])["is required"]));
        }

        return Malformed(what, new Dictionary<string, string[]>
        {
            [FieldName(error.Path)] = [error.Message.Split(" Path: ")[0]],
        });
    }

    public static IResult BadSignature(string detail) =>
        Problem(StatusCodes.Status401Unauthorized, "bad-signature", "The signature does not verify.", detail);

    public static IResult Oversize(int limit) =>
        Problem(StatusCodes.Status413PayloadTooLarge, "oversize", "The request body is too large.",
            $"The limit is {limit} bytes.");

    public static IResult UnknownNode(string nodeId) =>
        Problem(StatusCodes.Status404NotFound, "unknown-node", "No such node.", $"No node '{nodeId}' is registered.");

    public static IResult UnknownExplorerFile(string file) =>
        Problem(StatusCodes.Status404NotFound, "unknown-file", "No such file.", $"The explorer has no file '{file}'.");

    public static IResult KeyMismatch(string nodeId) =>
        Problem(StatusCodes.Status403Forbidden, "key-mismatch", "The key does not own this node id.",
            $"Node '{nodeId}' belongs to a different public key.");

    public static IResult StaleRegistration() =>
        Problem(StatusCodes.Status409Conflict, "stale-registration", "A newer registration was already applied.",
            "The registration's timestamp is not after the one applied last.");

    public static IResult Unauthenticated(string detail) =>
        Problem(StatusCodes.Status401Unauthorized, "unauthenticated", "The request needs a valid API key.", detail);

    public static IResult OperatorOnly() =>
        Problem(StatusCodes.Status403Forbidden, "operator-only", "Only an operator may do this.",
            "Use the operator's API key.");

    public static IResult UnknownJob(string jobId) =>
        Problem(StatusCodes.Status404NotFound, "unknown-job", "No such job.", $"There is no job '{jobId}'.");

    public static IResult JobConflict(string jobId) =>
        Problem(StatusCodes.Status409Conflict, "job-conflict", "The job id is taken.",
            $"Job '{jobId}' already exists with a different spec; choose another id.");

    public static IResult Superseded(string jobKey, int slot, int attempt) =>
        Problem(StatusCodes.Status409Conflict, "superseded", "The slot is no longer this node's.",
            $"Slot {slot} of attempt {attempt} of job '{jobKey}' has ended or moved; stop working on it.");

    public static IResult TenantExists(string name) =>
        Problem(StatusCodes.Status409Conflict, "tenant-exists", "The tenant exists.", $"Tenant '{name}' already exists.");

    public static IResult UnknownDataset(string name) =>
        Problem(StatusCodes.Status404NotFound, "unknown-dataset", "No such dataset.", $"There is no dataset '{name}'.");

    public static IResult NearDuplicate(string detail) =>
        Problem(StatusCodes.Status409Conflict, "near-duplicate", "The reading was already reported.", detail);

    public static IResult UnknownSnapshot(string dataset, long size) =>
        Problem(StatusCodes.Status404NotFound, "unknown-snapshot", "No such snapshot.", $"Dataset '{dataset}' has no snapshot at size {size}.");

    public static IResult UnknownRecord(string dataset, string contentHash) =>
        Problem(StatusCodes.Status404NotFound, "unknown-record", "No such record.", $"Dataset '{dataset}' holds no record with content hash '{contentHash}'.");

    public static IResult NoProof(string dataset, string what) =>
        Problem(StatusCodes.Status404NotFound, "no-proof", "No such proof.", $"Dataset '{dataset}' has no proof for {what}: it does not exist or its log is not that long.");

    public static IResult DatasetConflict(string name, string detail) =>
        Problem(StatusCodes.Status409Conflict, "dataset-conflict", $"Dataset '{name}' exists.", detail);

    public static IResult DatasetUnavailable(string detail) =>
        Problem(StatusCodes.Status503ServiceUnavailable, "datasets-unavailable", "Datasets are not available.", detail);

    public static IResult NotAContributor(string reason, string detail) =>
        Problem(StatusCodes.Status403Forbidden, reason.Replace('_', '-'), "The node may not contribute to this dataset.", detail);

    public static IResult RoundClosed(string jobKey, long round) =>
        Problem(StatusCodes.Status409Conflict, "round-closed", "The round has closed.",
            $"Round {round} of training job '{jobKey}' has closed or training has ended; fetch the current round.");

    public static IResult UnknownModel(string hash) =>
        Problem(StatusCodes.Status404NotFound, "unknown-model", "No such model.", $"There is no model version '{hash}'.");

    public static IResult NoAnswer(string hash, string detail) =>
        Problem(StatusCodes.Status503ServiceUnavailable, "no-answer", $"Model {hash} could not answer.", detail);

    public static IResult UnknownAccount(string id) =>
        Problem(StatusCodes.Status404NotFound, "unknown-account", "No such account.", $"There is no account '{id}' that you may see.");

    public static IResult UnopenedAccounts(string detail) =>
        Problem(StatusCodes.Status422UnprocessableEntity, "unknown-account", "The posting names an account that is not open.", detail);

    public static IResult PostingConflict(string id) =>
        Problem(StatusCodes.Status409Conflict, "posting-conflict", "The posting id is taken.",
            $"Posting '{id}' exists with other content; a posting id names one posting forever.");

    public static IResult InsufficientFunds(string detail) =>
        Problem(StatusCodes.Status402PaymentRequired, "insufficient-funds", "The account does not hold enough.", detail);

    public static IResult StakeLocked(string nodeId) =>
        Problem(StatusCodes.Status409Conflict, "stake-locked", "The stake is locked.",
            $"Node {nodeId} holds work; its stake stays posted until the work ends.");

    public static IResult TooManyRequests(string scope, string caller, long retryAfterSeconds) =>
        Problem(StatusCodes.Status429TooManyRequests, "rate-limited", "Too many requests.",
            $"{char.ToUpperInvariant(scope[0])}{scope[1..]} '{caller}' is over its request rate; retry after {retryAfterSeconds} s.");

    public static IResult Overloaded() =>
        Problem(StatusCodes.Status503ServiceUnavailable, "overloaded", "The platform is overloaded.",
            "The telemetry journal is behind or unavailable; retry shortly.");

    public static IResult StaleBatch(TimeSpan maxAge) =>
        Problem(StatusCodes.Status422UnprocessableEntity, "stale-batch", "The batch was signed too long ago.",
            $"Batches signed more than {maxAge.TotalSeconds:0} s before they arrive are dropped; send fresh samples.");

    /// <summary>
    /// Gives the problem details ASP.NET writes itself (an unmatched route, a wrong method or media type, a request
    /// the framework refused before an endpoint ran) a stable type too, as the endpoints' own have.
    /// </summary>
    public static void Stabilize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Type?.StartsWith(TypePrefix, StringComparison.Ordinal) == true)
        {
            return;
        }

        problem.Type = TypePrefix + (problem.Status switch
        {
            StatusCodes.Status404NotFound => "not-found",
            StatusCodes.Status405MethodNotAllowed => "method-not-allowed",
            StatusCodes.Status413PayloadTooLarge => "oversize",
            StatusCodes.Status415UnsupportedMediaType => "unsupported-media-type",
            >= 500 => "internal",
            _ => "malformed",
        });
    }

    private static IResult Problem(int status, string type, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title, type: TypePrefix + type);

    [GeneratedRegex("missing required properties including: (.*)$")]
    private static partial Regex MissingMembers();

    [GeneratedRegex("'([^']+)'")]
    private static partial Regex Quoted();

    // "$.samples[0].cpuUtilization" -> "samples[0].cpuUtilization"; "$" -> "body".
    private static string FieldName(string? path) =>
        path is null or "$" ? "body" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
}
