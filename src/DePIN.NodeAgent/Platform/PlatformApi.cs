using System.Net;
using System.Text.Json;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Inference;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.Abstractions.Training;
using DePIN.Core.Datasets;
using DePIN.Core.Identity;

namespace DePIN.NodeAgent.Platform;

/// <summary>What the platform said to a request.</summary>
public enum Delivery
{
    /// <summary>Taken.</summary>
    Accepted,

    /// <summary>The platform does not know the node: register again.</summary>
    UnknownNode,

    /// <summary>Refused for good (bad signature, malformed, too large): retrying the same body will not help.</summary>
    Refused,

    /// <summary>Not delivered (network, 5xx): try again later.</summary>
    Failed,
}

/// <summary>What the platform said to a contribution.</summary>
public enum Contributed
{
    /// <summary>Appended, durably.</summary>
    New,

    /// <summary>The same record was already there; the platform answered with its first receipt.</summary>
    Repeat,

    /// <summary>The dataset does not exist (yet).</summary>
    NoDataset,

    /// <summary>Refused for good (schema, signature, contributor policy, quarantine, near-duplicate).</summary>
    Refused,

    /// <summary>Not delivered (network, 5xx): try again later.</summary>
    Failed,
}

/// <summary>The agent's side of the HTTP API: bodies serialized once, signed as sent.</summary>
public sealed partial class PlatformApi(HttpClient http, ILogger<PlatformApi> logger)
{
    public Task<Delivery> Register(NodeSigner signer, NodeRegistration registration, CancellationToken cancellationToken) =>
        Send(signer, "v1/nodes", JsonSerializer.SerializeToUtf8Bytes(registration, ApiJson.Options), cancellationToken);

    public Task<Delivery> SendTelemetry(NodeSigner signer, TelemetryBatch batch, CancellationToken cancellationToken) =>
        Send(signer, $"v1/nodes/{signer.NodeId}/telemetry", JsonSerializer.SerializeToUtf8Bytes(batch, ApiJson.Options), cancellationToken);

    /// <summary>Long-polls for the node's work; the set comes back when accepted.</summary>
    public Task<(Delivery, WorkSet?)> PollWork(NodeSigner signer, WorkPoll poll, CancellationToken cancellationToken) =>
        Ask<WorkPoll, WorkSet>(signer, $"v1/nodes/{signer.NodeId}/work", poll, cancellationToken);

    /// <summary>Reports on a slot. Refused or UnknownNode: the slot is no longer the node's.</summary>
    public Task<Delivery> ReportWork(NodeSigner signer, WorkReport report, CancellationToken cancellationToken) =>
        Send(signer, $"v1/nodes/{signer.NodeId}/work/reports", JsonSerializer.SerializeToUtf8Bytes(report, ApiJson.Options), cancellationToken);

    /// <summary>The current round of a training slot; null when not delivered (retry), with Refused when the slot is not ours.</summary>
    public Task<(Delivery, TrainingRound?)> TrainingRound(NodeSigner signer, TrainingPoll poll, CancellationToken cancellationToken) =>
        Ask<TrainingPoll, TrainingRound>(signer, $"v1/nodes/{signer.NodeId}/training", poll, cancellationToken);

    /// <summary>Long-polls for inference requests to the model of a slot.</summary>
    public Task<(Delivery, InferenceTask[]?)> PollInference(NodeSigner signer, InferencePoll poll, CancellationToken cancellationToken) =>
        Ask<InferencePoll, InferenceTask[]>(signer, $"v1/nodes/{signer.NodeId}/inference", poll, cancellationToken);

    public Task<Delivery> SendAnswers(NodeSigner signer, InferenceAnswers answers, CancellationToken cancellationToken) =>
        Send(signer, $"v1/nodes/{signer.NodeId}/inference/answers", JsonSerializer.SerializeToUtf8Bytes(answers, ApiJson.Options), cancellationToken);

    /// <summary>A registered model version and its weights, checked against its hash; null when not delivered or not genuine.</summary>
    public async Task<(ModelVersion Version, float[] Weights)?> Model(string hash, CancellationToken cancellationToken)
    {
        try
        {
            var version = await http.GetFromJsonAsync<ModelVersion>($"v1/models/{hash}", ApiJson.Options, cancellationToken);
            var weights = Weights.FromBytes(await http.GetByteArrayAsync($"v1/models/{hash}/weights", cancellationToken));
            return version is not null && weights is not null && Weights.Hash(weights) == hash && version.Hash == hash ? (version, weights) : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnreachable("-", $"v1/models/{hash}", ex.Message);
            return null;
        }
    }

    /// <summary>Sends a worker's delta. Refused: the round closed or the slot is no longer ours; fetch the round again.</summary>
    public Task<Delivery> SubmitDelta(NodeSigner signer, TrainingDeltaReport report, CancellationToken cancellationToken) =>
        Send(signer, $"v1/nodes/{signer.NodeId}/training/deltas", JsonSerializer.SerializeToUtf8Bytes(report, ApiJson.Options), cancellationToken);

    /// <summary>
    /// A dataset snapshot's records with their content hashes, each hash recomputed from the record's canonical form:
    /// null when not delivered, or when any record is not what its address says.
    /// </summary>
    public async Task<List<(Contribution Record, byte[] ContentHash)>?> SnapshotRecords(string dataset, long size, CancellationToken cancellationToken)
    {
        var path = $"v1/datasets/{Uri.EscapeDataString(dataset)}/snapshots/{size}/records";
        try
        {
            var exported = await http.GetFromJsonAsync<ExportedRecord[]>(path, ApiJson.Options, cancellationToken);
            var records = new List<(Contribution, byte[])>(exported?.Length ?? 0);
            foreach (var e in exported ?? [])
            {
                var hash = Contribution.ContentHash(e.Record.ToCanonical());
                if (Convert.ToHexStringLower(hash) != e.ContentHash)
                {
                    LogUnreachable(e.Record.NodeId, path, $"record {e.LeafIndex} does not hash to its address {e.ContentHash}");
                    return null;
                }

                records.Add((e.Record, hash));
            }

            return records;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnreachable("-", path, ex.Message);
            return null;
        }
    }

    /// <summary>Posts a signed contribution; the record carries its own signature, so the request is not signed again.</summary>
    public async Task<Contributed> Contribute(string dataset, ContributionRequest contribution, CancellationToken cancellationToken)
    {
        var path = $"v1/datasets/{Uri.EscapeDataString(dataset)}/contributions";
        try
        {
            using var response = await http.PostAsJsonAsync(path, contribution, ApiJson.Options, cancellationToken);
            switch (response.StatusCode)
            {
                case HttpStatusCode.Created:
                    return Contributed.New;
                case HttpStatusCode.OK:
                    return Contributed.Repeat;
            }

            var problem = await response.Content.ReadAsStringAsync(cancellationToken);
            LogRejected(contribution.Record.NodeId, path, (int)response.StatusCode, problem);
            return response.StatusCode switch
            {
                HttpStatusCode.NotFound => Contributed.NoDataset,
                HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout or >= HttpStatusCode.InternalServerError => Contributed.Failed,
                _ => Contributed.Refused,
            };
        }
        catch (Exception ex) when (ex is HttpRequestException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnreachable(contribution.Record.NodeId, path, ex.Message);
            return Contributed.Failed;
        }
    }

    /// <summary>A signed POST whose answer has a body; an accepted request without one counts as not delivered.</summary>
    private async Task<(Delivery, TAnswer?)> Ask<TRequest, TAnswer>(NodeSigner signer, string path, TRequest request, CancellationToken cancellationToken)
        where TAnswer : class
    {
        TAnswer? answer = null;
        var delivery = await Send(signer, path, JsonSerializer.SerializeToUtf8Bytes(request, ApiJson.Options), cancellationToken,
            async response => answer = await response.Content.ReadFromJsonAsync<TAnswer>(ApiJson.Options, cancellationToken));
        return (answer is null && delivery == Delivery.Accepted ? Delivery.Failed : delivery, answer);
    }

    private async Task<Delivery> Send(
        NodeSigner signer, string path, byte[] body, CancellationToken cancellationToken, Func<HttpResponseMessage, Task>? read = null)
    {
        using var request = ApiJson.SignedPost(path, body, signer.Sign(body));
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                if (read is not null)
                {
                    await read(response);
                }

                return Delivery.Accepted;
            }

            var problem = await response.Content.ReadAsStringAsync(cancellationToken);
            LogRejected(signer.NodeId, path, (int)response.StatusCode, problem);
            return response.StatusCode switch
            {
                HttpStatusCode.NotFound => Delivery.UnknownNode,
                HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout or >= HttpStatusCode.InternalServerError => Delivery.Failed,
                _ => Delivery.Refused,
            };
        }
        catch (HttpRequestException ex)
        {
            LogUnreachable(signer.NodeId, path, ex.Message);
            return Delivery.Failed;
        }
        catch (JsonException ex)
        {
            LogUnreachable(signer.NodeId, path, ex.Message);
            return Delivery.Failed;
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogUnreachable(signer.NodeId, path, ex.Message);
            return Delivery.Failed;
        }
    }

    [LoggerMessage(LogLevel.Warning, "Node {NodeId}: POST {Path} answered {Status}: {Problem}")]
    private partial void LogRejected(string nodeId, string path, int status, string problem);

    [LoggerMessage(LogLevel.Warning, "Node {NodeId}: POST {Path} failed: {Reason}")]
    private partial void LogUnreachable(string nodeId, string path, string reason);
}
