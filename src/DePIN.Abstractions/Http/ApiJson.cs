using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Inference;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.Abstractions.Training;

namespace DePIN.Abstractions.Http;

/// <summary>
/// The HTTP API's JSON contract: camelCase names, enums as camelCase strings, required constructor parameters and
/// non-nullable members enforced, so a body of the wrong shape fails to parse with the path of the bad field.
/// </summary>
public static class ApiJson
{
    /// <summary>The header carrying the base64 Ed25519 signature of the exact request body.</summary>
    public const string SignatureHeader = "DePIN-Signature";

    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>A POST of <paramref name="body"/> as JSON, with its Ed25519 <paramref name="signature"/> in the header.</summary>
    public static HttpRequestMessage SignedPost(string path, byte[] body, byte[] signature)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Add(SignatureHeader, Convert.ToBase64String(signature));
        return request;
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(ApiJsonContext.Default.Options);
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.Converters.Add(new FiniteDoubleConverter());
        options.MakeReadOnly(populateMissingResolver: false);
        return options;
    }
}

/// <summary>
/// Numbers as JSON has them: a value too large for a double (1e999) reads as infinity in .NET, which every range
/// check of the form "at least 0" lets through, so such a number is refused as the JSON error it is.
/// </summary>
public sealed class FiniteDoubleConverter : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var value = reader.GetDouble();
        return double.IsFinite(value) ? value : throw new JsonException("The number is too large for a double.");
    }

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(NodeRegistration))]
[JsonSerializable(typeof(RegistrationResult))]
[JsonSerializable(typeof(NodeDetails))]
[JsonSerializable(typeof(MaintenanceRequest))]
[JsonSerializable(typeof(NodeSummary[]))]
[JsonSerializable(typeof(NodeEvent))]
[JsonSerializable(typeof(TelemetryBatch))]
[JsonSerializable(typeof(RelayResults))]
[JsonSerializable(typeof(JobSpec))]
[JsonSerializable(typeof(JobDetails))]
[JsonSerializable(typeof(JobSummary[]))]
[JsonSerializable(typeof(JobEvent))]
[JsonSerializable(typeof(NewTenant))]
[JsonSerializable(typeof(TenantCreated))]
[JsonSerializable(typeof(CancelRequest))]
[JsonSerializable(typeof(WorkPoll))]
[JsonSerializable(typeof(WorkSet))]
[JsonSerializable(typeof(WorkReport))]
[JsonSerializable(typeof(DatasetDefinition))]
[JsonSerializable(typeof(DatasetInfo))]
[JsonSerializable(typeof(ContributionRequest))]
[JsonSerializable(typeof(ContributionReceipt))]
[JsonSerializable(typeof(MerkleProofView))]
[JsonSerializable(typeof(PlatformKeys))]
[JsonSerializable(typeof(RecordLocation))]
[JsonSerializable(typeof(SnapshotManifest))]
[JsonSerializable(typeof(ExportedRecord[]))]
[JsonSerializable(typeof(TrainingPoll))]
[JsonSerializable(typeof(TrainingRound))]
[JsonSerializable(typeof(TrainingDeltaReport))]
[JsonSerializable(typeof(TrainingStatus))]
[JsonSerializable(typeof(ModelVersion))]
[JsonSerializable(typeof(InferenceRequest))]
[JsonSerializable(typeof(InferenceResult))]
[JsonSerializable(typeof(InferencePoll))]
[JsonSerializable(typeof(InferenceTask[]))]
[JsonSerializable(typeof(InferenceAnswers))]
[JsonSerializable(typeof(PostingRequest))]
[JsonSerializable(typeof(PostingResult))]
[JsonSerializable(typeof(AccountView))]
[JsonSerializable(typeof(AccountPosting[]))]
[JsonSerializable(typeof(LedgerHeadView))]
[JsonSerializable(typeof(ChainedPostingView))]
[JsonSerializable(typeof(ChainedPostingView[]))]
[JsonSerializable(typeof(StakeRequest))]
[JsonSerializable(typeof(WithdrawalRequest))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
