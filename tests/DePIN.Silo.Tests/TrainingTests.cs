using System.Net.Http.Json;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Inference;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Training;
using DePIN.Core.Datasets;
using DePIN.Core.Inference;
using DePIN.Core.Training;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>
/// A DiLoCo training job on the shipped weather dataset, for real: two silo processes, node agents as processes
/// (weather stations fill the dataset; four agents with one eu-west node each are the workers' machines), a worker's agent killed
/// and the coordinator's silo killed mid-run, and the model that comes out checked against its snapshot.
/// </summary>
public sealed class TrainingTests(PostgresServer postgres) : IAsyncLifetime
{
    private const int Workers = 3;
    private readonly string _keys = Path.Combine(Path.GetTempPath(), $"depin-training-{Guid.NewGuid():N}");
    private readonly Dictionary<string, ServiceProcess> _agents = [];
    private readonly List<ServiceProcess> _silos = [];
    private string _database = "";
    private string _cluster = "";

    // Liveness in half-second intervals: a silent node is offline after 3 s.
    private static Dictionary<string, string> Settings => new(SiloOnPostgres.Settings)
    {
        ["Nodes:TelemetryInterval"] = "00:00:00.5",
        ["Inference:AnswerTimeout"] = "00:00:01",
        // A node that has answered is preferred to one not yet measured, so the failover below is certain to happen.
        ["Inference:UnmeasuredAnswer"] = "00:00:10",
        ["Inference:EvidenceInterval"] = "00:00:00.5",
    };

    private int _apiPort;

    // The silo the agents and this test talk to.
    private ServiceProcess Api => _silos.Single(s => s.HttpPort == _apiPort);

    public async ValueTask InitializeAsync()
    {
        _database = await postgres.CreateDatabase();
        _cluster = $"training-{Guid.NewGuid():N}";
        _silos.Add(await ServiceProcess.StartSilo(_database, _cluster, Settings));
        _silos.Add(await ServiceProcess.StartSilo(_database, _cluster, Settings));
        _apiPort = _silos[0].HttpPort;
    }

    [Fact]
    public async Task A_training_job_survives_losing_a_worker_and_its_coordinators_silo_and_registers_a_model_that_checks_out()
    {
        var size = await WeatherSnapshot();
        var (ids, machine) = await Machines("a", "b", "c");
        var jobs = new JobApi(Api.Http);
        var key = await jobs.NewTenant();
        // Workers only on the four agents' machines (eu-west), not the weather stations (us-east, us-west).
        var spec = TestJob.Spec(replicas: Workers, cpuCores: 1) with
        {
            Kind = JobKind.Training,
            Batch = null,
            Resources = new ReplicaResources(machine.CpuCores / 2 + 1, 512L << 20, 0, 0),
            Constraints = JobConstraints.None with { Regions = ["eu-west"] },
            Training = TrainingWork.Weather("weather", size) with { Rounds = 20, RoundDeadlineSeconds = 5 },
        };
        using (var submitted = await jobs.Send(HttpMethod.Put, "/v1/jobs/weather-mlp", key, spec))
        {
            Assert.True(submitted.IsSuccessStatusCode, $"{(int)submitted.StatusCode}: {await submitted.Content.ReadAsStringAsync()}\n{Api.Output}");
        }
        // The first call activates the coordinator, on the silo it comes through (prefer-local placement): the silo the
        // agents do not talk to, so that killing it below is killing the coordinator without cutting the agents off.
        var other = _silos.Single(x => x.HttpPort != _apiPort);
        Assert.NotNull(await other.Http.Find<TrainingStatus>("/v1/jobs/weather-mlp/training", key));


        // A worker's machine goes: its agent is killed, its node goes offline, the gang forms again elsewhere.
        await Wait.Until(() => Status(key), s => s?.Round >= 1, "a first round closed", TimeSpan.FromMinutes(2));
        // The gang as it runs now (it may have formed again already, if a machine looked silent under load).
        var running = await Wait.Until(() => jobs.Get<JobDetails>("/v1/jobs/weather-mlp", key),
            j => j.Status == JobStatus.Running, "the training job running", TimeSpan.FromMinutes(2));
        var lost = running.Assignments[0].NodeId;
        await _agents[ids[lost]].Kill();
        await Wait.Until(() => jobs.Get<JobDetails>("/v1/jobs/weather-mlp", key),
            j => j.Attempts > running.Attempts && j.Status == JobStatus.Running && j.Assignments.All(a => a.NodeId != lost),
            "the gang running again without the lost node", TimeSpan.FromMinutes(2));

        // The coordinator's silo dies (kill -9). When it is the silo the agents talk to, it starts again on its port.
        var before = (await Status(key))!;
        Assert.False(before.Done, "training ended before the silo could be killed mid-run");
        var victim = _silos.Single(s => before.Coordinator.Contains($":{s.SiloPort}:", StringComparison.Ordinal));
        await victim.Kill();
        await victim.DisposeAsync();
        _silos.Remove(victim);
        if (victim.HttpPort == _apiPort)
        {
            _silos.Add(await ServiceProcess.StartSilo(_database, _cluster, Settings, _apiPort));
        }

        var done = await Wait.Until(() => Api.Http.Find<JobDetails>("/v1/jobs/weather-mlp", key), j => j?.Status is JobStatus.Succeeded or JobStatus.Failed,
            "the training job to finish", TimeSpan.FromMinutes(3));
        var status = (await Status(key))!;
        Assert.True(done!.Status == JobStatus.Succeeded, $"{done.Status}: {done.Reason}; {status.Error}");
        Assert.DoesNotContain($":{victim.SiloPort}:", status.Coordinator, StringComparison.Ordinal);
        Assert.True(status.Round > before.Round, $"rounds after the kill: {before.Round} → {status.Round}");

        // The job's result is the registered model; its weights hash to its name, come from this snapshot, and score on
        // the snapshot's held-out records what the registry says, well above always answering the commonest class.
        Assert.Equal(status.ModelHash, done.Result);
        var model = (await Api.Http.GetFromJsonAsync<ModelVersion>($"/v1/models/{done.Result}", ApiJson.Options))!;
        var manifest = (await Api.Http.GetFromJsonAsync<SnapshotManifest>($"/v1/datasets/weather/snapshots/{size}", ApiJson.Options))!;
        Assert.Equal(("weather", size, manifest.Root, JobKey.For(done.Tenant, "weather-mlp")),
            (model.Dataset, model.SnapshotSize, model.SnapshotRoot, model.JobKey));
        var weights = await Api.Http.GetByteArrayAsync($"/v1/models/{done.Result}/weights");
        var parameters = Weights.FromBytes(weights)!;
        Assert.Equal(done.Result, Weights.Hash(parameters));
        var exported = (await Api.Http.GetFromJsonAsync<ExportedRecord[]>($"/v1/datasets/weather/snapshots/{size}/records", ApiJson.Options))!;
        var (examples, _) = model.Work.Task().Examples(
            exported.Select(e => (e.Record, Convert.FromHexString(e.ContentHash))), new Normaliser(model.Mean, model.Scale));
        var heldOut = examples.Where(e => e.IsHeldOut).ToList();
        var accuracy = model.Work.Model().Accuracy(parameters, heldOut);
        Assert.Equal(model.Metrics.Accuracy, accuracy, 6);
        Assert.Equal(heldOut.Count, model.Metrics.HeldOut);
        // The split follows the records' content hashes, which follow the stations' fresh keys, so the score varies a
        // little from run to run (0.841 in one CI run here), where the benchmark's model plateaus near 0.877.
        Assert.True(accuracy >= 0.8, $"held-out accuracy {accuracy} (majority class {model.Metrics.MajorityClassAccuracy})");
        Assert.True(model.Metrics.MajorityClassAccuracy < 0.6);
    }

    [Fact]
    public async Task A_trained_model_served_by_two_nodes_answers_with_verifiable_receipts_and_fails_over_when_its_node_dies()
    {
        var size = await WeatherSnapshot();
        var (ids, machine) = await Machines("a", "b");
        var jobs = new JobApi(Api.Http);
        var key = await jobs.NewTenant();
        var onePerMachine = TestJob.Spec(replicas: 1, cpuCores: 1) with
        {
            Batch = null,
            Resources = new ReplicaResources(machine.CpuCores / 2 + 1, 512L << 20, 0, 0),
            Constraints = JobConstraints.None with { Regions = ["eu-west"] },
        };
        var train = onePerMachine with { Kind = JobKind.Training, Training = TrainingWork.Weather("weather", size) with { Rounds = 3 } };
        (await jobs.Send(HttpMethod.Put, "/v1/jobs/model", key, train)).EnsureSuccessStatusCode();
        var trained = await Wait.Until(() => Api.Http.Find<JobDetails>("/v1/jobs/model", key), j => j?.Status == JobStatus.Succeeded,
            "the model trained", TimeSpan.FromMinutes(2));

        // A model that does not exist cannot be deployed.
        var unknown = onePerMachine with { Kind = JobKind.Inference, Inference = new((trained!.Result![0] == '0' ? "1" : "0") + trained.Result[1..]) };
        Assert.Equal(["inference.modelHash"], await JobApi.Fields(await jobs.Send(HttpMethod.Put, "/v1/jobs/nothing", key, unknown)));

        var serve = onePerMachine with { Kind = JobKind.Inference, Replicas = 2, Inference = new(trained.Result) };
        (await jobs.Send(HttpMethod.Put, "/v1/jobs/serve", key, serve)).EnsureSuccessStatusCode();
        await Wait.Until(() => Api.Http.Find<JobDetails>("/v1/jobs/serve", key), j => j?.Status == JobStatus.Running, "the model served", TimeSpan.FromMinutes(2));

        // A rainy January day in Seattle, as the archive has it.
        var rainy = new InferenceRequest(new Dictionary<string, FieldValue>
        {
            ["precipitation"] = FieldValue.Of(10.9), ["temp_max"] = FieldValue.Of(10.6), ["temp_min"] = FieldValue.Of(2.8), ["wind"] = FieldValue.Of(4.5),
        }, 47.6062, -122.3321, new DateTimeOffset(2012, 1, 2, 0, 0, 0, TimeSpan.Zero));
        var first = await Infer(trained.Result, rainy);
        Assert.Equal("rain", first.Answer);
        Assert.Equal(1, first.Attempts);
        await AssertGenuine(first, trained.Result, rainy);

        // Tampered, the receipt no longer verifies.
        Assert.False((first.Receipt with { Answer = "sun" }).Verify());
        Assert.False((first.Receipt with { InputHash = new string('0', 64) }).Verify());

        // The answering node's agent dies; the next request times out there and the other node answers.
        await _agents[ids[first.Receipt.NodeId]].Kill();
        var second = await Infer(trained.Result, rainy);
        Assert.NotEqual(first.Receipt.NodeId, second.Receipt.NodeId);
        Assert.Equal(2, second.Attempts);
        Assert.Equal("rain", second.Answer);
        await AssertGenuine(second, trained.Result, rainy);

        // Both go to the nodes' one reputation: answers with a valid receipt for, the request left unanswered against.
        await Wait.Until(() => Api.Http.Find<DePIN.Abstractions.Nodes.NodeDetails>($"/v1/nodes/{second.Receipt.NodeId}"),
            n => n!.Reputation.Served >= 1, "the answering node's reputation to count its answer");
        var silent = await Wait.Until(() => Api.Http.Find<DePIN.Abstractions.Nodes.NodeDetails>($"/v1/nodes/{first.Receipt.NodeId}"),
            n => n!.Reputation.Unanswered >= 1, "the dead node's reputation to count the request it left unanswered");
        Assert.Equal(1, silent!.Reputation.Served);

        // Bad input is refused, naming the field.
        using var missing = await Api.Http.PostAsJsonAsync($"/v1/models/{trained.Result}/infer",
            rainy with { Values = new Dictionary<string, FieldValue> { ["wind"] = FieldValue.Of(4.5) } }, ApiJson.Options);
        Assert.Equal(["values"], await JobApi.Fields(missing));
    }

    private async Task<InferenceResult> Infer(string model, InferenceRequest request)
    {
        using var response = await Api.Http.PostAsJsonAsync($"/v1/models/{model}/infer", request, ApiJson.Options);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<InferenceResult>(ApiJson.Options))!;
    }

    // The receipt is the registered node's, over this model and this input's canonical hash.
    private async Task AssertGenuine(InferenceResult result, string model, InferenceRequest request)
    {
        var node = (await Api.Http.Find<DePIN.Abstractions.Nodes.NodeDetails>($"/v1/nodes/{result.Receipt.NodeId}"))!;
        Assert.True(result.Receipt.Verify(Convert.ToBase64String(node.PublicKey)));
        Assert.Equal((model, InferenceReceipt.HashInput(model, request.At, request.Latitude, request.Longitude, request.Values)),
            (result.Receipt.ModelHash, result.Receipt.InputHash));
    }

    /// <summary>Stations contribute the shipped archive; an operator snapshots it. Returns the snapshot's size.</summary>
    private async Task<long> WeatherSnapshot()
    {
        using (var create = new HttpRequestMessage(HttpMethod.Put, "/v1/datasets/weather")
        {
            Content = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(Repository.Root, "data", "weather", "dataset.json")))
            {
                Headers = { ContentType = new("application/json") },
            },
        }.WithKey(DePIN.Testing.Http.OperatorKey))
        {
            (await Api.Http.SendAsync(create)).EnsureSuccessStatusCode();
        }

        // This agent's one simulated node (in eu-west) stays, a worker's machine like the others.
        _agents["stations"] = await ServiceProcess.StartAgent("--api", Api.Http.BaseAddress!.ToString(), "--simulate", "1", "--interval", "0.5",
            "--key-dir", Path.Combine(_keys, "stations"), "--weather", Path.Combine(Repository.Root, "data", "weather", "weather.csv"),
            "--weather-rate", "1000");
        await Wait.Until(() => Api.Http.Find<DatasetInfo>("/v1/datasets/weather"), i => i?.TreeHead.Size == 2922,
            "the weather dataset filled", TimeSpan.FromMinutes(2));

        using var snapshot = new HttpRequestMessage(HttpMethod.Post, "/v1/datasets/weather/snapshots").WithKey(DePIN.Testing.Http.OperatorKey);
        return (await (await Api.Http.SendAsync(snapshot)).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<SnapshotManifest>(ApiJson.Options))!.Size;
    }

    /// <summary>
    /// Starts an agent with one eu-west node per name; returns every agent's node (the stations agent's too) by id,
    /// and the machine they all are (the simulated machines are alike): a replica taking more than half its cores
    /// runs one per machine.
    /// </summary>
    private async Task<(Dictionary<string, string> Agents, DePIN.Abstractions.Nodes.NodeCapabilities Machine)> Machines(params string[] names)
    {
        foreach (var name in names)
        {
            _agents[name] = await Agent(name);
        }

        var ids = new Dictionary<string, string>();
        foreach (var name in _agents.Keys)
        {
            ids[(await Wait.Until(() => Task.FromResult(AgentKeys.NodeIds(Path.Combine(_keys, name), "node-*.key")), k => k.Count == 1, $"agent {name}'s key"))[0]] = name;
        }

        return (ids, (await Api.Http.Find<DePIN.Abstractions.Nodes.NodeDetails>($"/v1/nodes/{ids.Keys.First()}"))!.Capabilities);
    }

    private Task<ServiceProcess> Agent(string name) => ServiceProcess.StartAgent(
        "--api", Api.Http.BaseAddress!.ToString(), "--simulate", "1", "--interval", "0.5", "--key-dir", Path.Combine(_keys, name));

    private Task<TrainingStatus?> Status(string key) => Api.Http.Find<TrainingStatus>("/v1/jobs/weather-mlp/training", key);

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _agents.Values.Concat(_silos))
        {
            await process.DisposeAsync();
        }

        if (Directory.Exists(_keys))
        {
            Directory.Delete(_keys, recursive: true);
        }
    }
}
