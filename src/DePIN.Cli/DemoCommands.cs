using System.Net;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Inference;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Training;
using DePIN.Core.Economy;
using DePIN.Core.Inference;

namespace DePIN.Cli;

/// <summary>
/// <c>depin demo weather</c>: the chain from a signed sensor reading to a model's signed answer, on a running
/// platform. Once the weather dataset holds the archive, it snapshots it, trains a model on the snapshot (a DiLoCo
/// training job), deploys the model to edge nodes (an inference job), asks it about a real day from the snapshot,
/// checks the serving node's receipt with that node's key, and prints the chain. Safe to run again: the same
/// snapshot, jobs and model are found rather than made twice.
/// </summary>
public static class DemoCommands
{
    public const string Usage = """
        usage: depin demo weather --api URL --state-dir DIR [--dataset weather] [--records 2922] [--timeout-seconds 900]
          waits until the dataset holds --records readings, then snapshots, trains, serves and asks the model; the
          operator's API key is read from DEPIN_API_KEY; the demo tenant's key is kept in DIR/tenant.key
        Exit code 0 when the answer came back with a valid receipt, 1 when a step failed or timed out, 2 for bad usage.
        """;

    private const string Tenant = "weather-lab";

    public static async Task<int> Run(string[] args, TextWriter output, TextWriter error)
    {
        if (Options.Parse(args, "api", "state-dir", "dataset", "records", "timeout-seconds") is not { } options ||
            !options.TryGetValue("api", out var api) || !Uri.TryCreate(api, UriKind.Absolute, out var apiUri) ||
            !options.TryGetValue("state-dir", out var stateDir) ||
            !long.TryParse(options.GetValueOrDefault("records", "2922"), out var records) || records < 1 ||
            !int.TryParse(options.GetValueOrDefault("timeout-seconds", "900"), out var timeoutSeconds) || timeoutSeconds < 1)
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        if (Environment.GetEnvironmentVariable(DatasetCommands.ApiKeyVariable) is not { Length: > 0 } operatorKey)
        {
            await error.WriteLineAsync($"depin: set {DatasetCommands.ApiKeyVariable} to the operator's API key.");
            return 2;
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        using var http = new HttpClient { BaseAddress = apiUri, Timeout = TimeSpan.FromSeconds(60) };
        var demo = new WeatherDemo(http, operatorKey, options.GetValueOrDefault("dataset", "weather"), records, stateDir, output, deadline.Token);
        try
        {
            await demo.Run();
            return 0;
        }
        catch (Exception ex) when (ex is DemoFailed or HttpRequestException or JsonException or OperationCanceledException)
        {
            await error.WriteLineAsync($"depin demo: {(ex is OperationCanceledException ? $"gave up after {timeoutSeconds} s at: {demo.Step}" : ex.Message)}");
            return 1;
        }
    }

    private sealed class DemoFailed(string message) : Exception(message);

    private sealed class WeatherDemo(HttpClient http, string operatorKey, string dataset, long records, string stateDir, TextWriter output, CancellationToken cancellationToken)
    {
        private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

        public string Step { get; private set; } = "starting";

        public async Task Run()
        {
            Step = $"waiting for {dataset} to hold {records} readings";
            await Until(async () => (await Get<DatasetInfo>($"/v1/datasets/{dataset}", null))?.TreeHead.Size >= records);

            Step = "taking the snapshot";
            var snapshot = await Send<SnapshotManifest>(HttpMethod.Post, $"/v1/datasets/{dataset}/snapshots", operatorKey, null);
            await Say($"snapshot   {dataset}@{snapshot.Size}, root {snapshot.Root}, signed by the platform; {snapshot.Contributors.Count} contributors");

            var tenantKey = await TenantKey();
            Step = "training";
            var trainingJob = $"{dataset}-mlp-{snapshot.Size}";
            await Send<JobDetails>(HttpMethod.Put, $"/v1/jobs/{trainingJob}", tenantKey, TrainingSpec(snapshot.Size));
            var trained = await JobWhen(trainingJob, tenantKey, JobStatus.Succeeded);
            var model = await Get<ModelVersion>($"/v1/models/{trained.Result}", null) ?? throw new DemoFailed($"model {trained.Result} is not registered");
            await Say($"model      {model.Hash}, trained by job {model.JobKey} on {model.Dataset}@{model.SnapshotSize} (root {model.SnapshotRoot}), held-out accuracy {model.Metrics.Accuracy:0.000} (majority class {model.Metrics.MajorityClassAccuracy:0.000})");

            Step = "deploying the model";
            var servingJob = $"{dataset}-serve-{model.Hash[..12]}";
            await Send<JobDetails>(HttpMethod.Put, $"/v1/jobs/{servingJob}", tenantKey, ServingSpec(model.Hash));
            await JobWhen(servingJob, tenantKey, JobStatus.Running);

            Step = "asking the model";
            var exported = await Get<ExportedRecord[]>($"/v1/datasets/{dataset}/snapshots/{snapshot.Size}/records?format=json", null) ?? [];
            var record = exported.FirstOrDefault(r => r.Record.Values.TryGetValue("weather", out var w) && w.Text == "rain") ?? exported[0];
            var inputs = record.Record.Values.Where(v => v.Key != "weather").ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);
            var request = new InferenceRequest(inputs, record.Record.Latitude, record.Record.Longitude, record.Record.SampledAt);
            InferenceResult? answer = null;
            await Until(async () =>
            {
                using var response = await http.PostAsJsonAsync($"/v1/models/{model.Hash}/infer", request, ApiJson.Options, cancellationToken);
                answer = response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<InferenceResult>(ApiJson.Options, cancellationToken) : null;
                return answer is not null; // 503 until a serving node has polled
            });

            var receipt = answer!.Receipt;
            var node = await Get<NodeDetails>($"/v1/nodes/{receipt.NodeId}", null) ?? throw new DemoFailed($"serving node {receipt.NodeId} is unknown");
            var inputHash = InferenceReceipt.HashInput(model.Hash, request.At, request.Latitude, request.Longitude, request.Values);
            var valid = receipt.Verify(Convert.ToBase64String(node.PublicKey)) && receipt.ModelHash == model.Hash && receipt.InputHash == inputHash;
            await Say($"record     {record.ContentHash} (leaf {record.LeafIndex}), {record.Record.SampledAt:yyyy-MM-dd} at {record.Record.Latitude},{record.Record.Longitude}, signed by station {record.Record.NodeId}; it was '{record.Record.Values["weather"].Text}'");
            await Say($"answer     '{answer.Answer}' (p = {answer.Probabilities.Max():0.000}) from node {receipt.NodeId} after {answer.Attempts} attempt(s); receipt {(valid ? "verified" : "INVALID")} with the node's key: model {receipt.ModelHash[..12]}…, input {receipt.InputHash[..12]}…");
            if (!valid)
            {
                throw new DemoFailed("the serving node's receipt does not verify");
            }

            await output.WriteLineAsync(new JsonObject
            {
                ["dataset"] = dataset,
                ["snapshot_size"] = snapshot.Size,
                ["snapshot_root"] = snapshot.Root,
                ["model"] = model.Hash,
                ["accuracy"] = Math.Round(model.Metrics.Accuracy, 4),
                ["record"] = record.ContentHash,
                ["answer"] = answer.Answer,
                ["serving_node"] = receipt.NodeId,
                ["receipt_verified"] = valid,
            }.ToJsonString());
        }

        /// <summary>The demo tenant's key: kept from an earlier run, or a new tenant's (a fresh name if the key was lost).</summary>
        private async Task<string> TenantKey()
        {
            var key = await CreateTenant();
            Step = "funding the demo tenant and the treasury";
            var tenant = key.Split('.')[0];
            // Once per tenant (the posting id says so): enough for the demo's training and serving escrows many times over.
            using var deposit = await Request(HttpMethod.Post, "/v1/ledger/postings", operatorKey, new PostingRequest($"deposit:demo:{tenant}", PostingKinds.Deposit,
                [new LedgerEntry(AccountId.External, Debit: DemoFunds), new LedgerEntry(AccountId.Tenant(tenant), Credit: DemoFunds)]));
            await Read<PostingResult>(deposit);

            // The treasury pays contributors' rewards; a new network's starts empty, so the demo gives it a budget (once).
            using var budget = await Request(HttpMethod.Post, "/v1/ledger/postings", operatorKey, new PostingRequest("deposit:demo:treasury", PostingKinds.Deposit,
                [new LedgerEntry(AccountId.External, Debit: TreasuryBudget), new LedgerEntry(AccountId.Treasury, Credit: TreasuryBudget)]));
            await Read<PostingResult>(budget);
            return key;
        }

        private const long DemoFunds = 100 * AccountId.PerCredit;
        private const long TreasuryBudget = 10 * AccountId.PerCredit;

        private async Task<string> CreateTenant()
        {
            Step = "creating the demo tenant";
            var file = Path.Combine(stateDir, "tenant.key");
            if (File.Exists(file))
            {
                return (await File.ReadAllTextAsync(file, cancellationToken)).Trim();
            }

            for (var attempt = 0; ; attempt++)
            {
                var name = attempt == 0 ? Tenant : $"{Tenant}-{Guid.NewGuid():N}"[..24];
                using var response = await Request(HttpMethod.Post, "/v1/tenants", operatorKey, new NewTenant(name));
                if (response.StatusCode == HttpStatusCode.Conflict && attempt < 3)
                {
                    continue; // made by a run whose key is gone
                }

                var created = await Read<TenantCreated>(response);
                Directory.CreateDirectory(stateDir);
                await File.WriteAllTextAsync(file, created.ApiKey, cancellationToken);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }

                await Say($"tenant     {created.Name} (key kept in {file})");
                return created.ApiKey;
            }
        }

        private async Task<JobDetails> JobWhen(string jobId, string key, JobStatus wanted)
        {
            JobDetails? job = null;
            await Until(async () =>
            {
                job = await Get<JobDetails>($"/v1/jobs/{jobId}", key);
                return job?.Status is { } status && (status == wanted || status is JobStatus.Failed or JobStatus.Cancelled || (wanted == JobStatus.Running && status == JobStatus.Succeeded));
            });

            return job!.Status == wanted ? job : throw new DemoFailed($"job {jobId} ended {job.Status.ToString().ToLowerInvariant()}: {job.Reason}");
        }

        private JsonNode TrainingSpec(long size) => Spec("training", replicas: 4, memoryBytes: 512L << 20, estimatedSeconds: 300, new JsonObject
        {
            ["dataset"] = dataset,
            ["snapshotSize"] = size,
            ["label"] = "weather",
            ["classes"] = new JsonArray("drizzle", "fog", "rain", "snow", "sun"),
            ["inputs"] = new JsonArray("precipitation:log1p", "temp_max", "temp_min", "wind", "@latitude", "@day_of_year_sin", "@day_of_year_cos"),
            ["rounds"] = 10,
        });

        private static JsonNode ServingSpec(string modelHash) =>
            Spec("inference", replicas: 2, memoryBytes: 256L << 20, estimatedSeconds: 3600, new JsonObject { ["modelHash"] = modelHash });

        private static JsonNode Spec(string kind, int replicas, long memoryBytes, int estimatedSeconds, JsonObject work) => new JsonObject
        {
            ["kind"] = kind,
            ["resources"] = new JsonObject { ["cpuCores"] = 1, ["memoryBytes"] = memoryBytes, ["gpus"] = 0, ["minGpuVramBytes"] = 0 },
            ["replicas"] = replicas,
            ["constraints"] = new JsonObject
            {
                ["regions"] = new JsonArray(), ["nearLatitude"] = null, ["nearLongitude"] = null, ["maxDistanceKm"] = null, ["maxLatencyMs"] = null,
                ["labels"] = new JsonArray(),
            },
            ["priority"] = 100,
            ["estimatedSeconds"] = estimatedSeconds,
            ["checkpointSeconds"] = 0,
            ["verification"] = new JsonObject { ["redundancy"] = 1, ["adaptive"] = false },
            ["maxPricePerReplicaHour"] = 2.5,
            [kind] = work,
        };

        private async Task Until(Func<Task<bool>> done)
        {
            while (!await done())
            {
                await Task.Delay(Poll, cancellationToken);
            }
        }

        private async Task<T?> Get<T>(string path, string? key)
        {
            using var response = await Request(HttpMethod.Get, path, key, null);
            return response.StatusCode == HttpStatusCode.NotFound ? default : await Read<T>(response);
        }

        private async Task<T> Send<T>(HttpMethod method, string path, string key, object? body)
        {
            using var response = await Request(method, path, key, body);
            return await Read<T>(response);
        }

        private async Task<HttpResponseMessage> Request(HttpMethod method, string path, string? key, object? body)
        {
            using var request = new HttpRequestMessage(method, path);
            if (key is not null)
            {
                request.Headers.Authorization = new("Bearer", key);
            }

            if (body is not null)
            {
                request.Content = new StringContent(body is JsonNode node ? node.ToJsonString() : JsonSerializer.Serialize(body, body.GetType(), ApiJson.Options),
                    System.Text.Encoding.UTF8, "application/json");
            }

            return await http.SendAsync(request, cancellationToken);
        }

        private async Task<T> Read<T>(HttpResponseMessage response) =>
            response.IsSuccessStatusCode
                ? await response.Content.ReadFromJsonAsync<T>(ApiJson.Options, cancellationToken) ?? throw new DemoFailed($"{response.RequestMessage?.RequestUri} answered with nothing")
                : throw new DemoFailed($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");

        private Task Say(string line) => output.WriteLineAsync(line);
    }
}
