using System.Net;
using System.Net.Http.Json;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Economy;
using DePIN.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace DePIN.Silo.Tests;

/// <summary>Silos as real processes on one PostgreSQL database: restarts, crashes, concurrent starts.</summary>
public sealed class ClusterTests(PostgresServer postgres)
{
    // Liveness thresholds far beyond a test's length, so restarts and fail-overs do not make nodes Suspect.
    private static readonly Dictionary<string, string> SlowLiveness = new() { ["Nodes:TelemetryInterval"] = "00:01:00" };

    [Fact]
    public async Task Nodes_jobs_datasets_and_accounts_survive_stopping_every_silo_and_starting_new_ones()
    {
        var database = await postgres.CreateDatabase();
        var clusterId = $"restart-{Guid.NewGuid():N}";
        var settings = new Dictionary<string, string>(SiloOnPostgres.Settings) { ["Nodes:TelemetryInterval"] = "00:01:00" };
        using var node = TestNode.Create(region: "eu-west");
        var sent = DateTimeOffset.UtcNow;
        NodeDetails before;
        string key;
        JobDetails job;
        DatasetInfo dataset;
        ContributionReceipt receipt;
        LedgerHeadView head;
        long balance;

        await using (var first = await ServiceProcess.StartSilo(database, clusterId, settings))
        await using (var second = await ServiceProcess.StartSilo(database, clusterId, settings))
        {
            (await node.Register(first.Http, sent)).EnsureSuccessStatusCode();
            for (var sequence = 1; sequence <= 3; sequence++)
            {
                // Through the other silo: the batch crosses the cluster on its way to the grain.
                Assert.Equal(HttpStatusCode.Accepted, (await node.Send(second.Http, node.Batch(sequence, sent.AddSeconds(sequence)))).StatusCode);
            }

            before = await Wait.Until(() => Details(first, node.Id), n => n!.LastSequence == 3, "three batches to be applied")
                ?? throw new InvalidOperationException();

            // A tenant's cancelled job (escrowed and refunded), a dataset with the node's record, and their postings.
            var jobs = new JobApi(first.Http);
            key = await jobs.NewTenant();
            (await jobs.Send(HttpMethod.Put, "/v1/jobs/kept", key, TestJob.Spec(replicas: 1, cpuCores: 1))).EnsureSuccessStatusCode();
            (await jobs.Send(HttpMethod.Post, "/v1/jobs/kept/cancel", key, new CancelRequest("kept for the restart"))).EnsureSuccessStatusCode();
            var ledger = new LedgerApi(second.Http);
            await Wait.Until(() => ledger.Balance(AccountId.Escrow(key.Split('.')[0], "kept")), b => b == 0, "the escrow refunded");
            job = (await first.Http.Find<JobDetails>("/v1/jobs/kept", key))!;
            (await jobs.SendRaw(HttpMethod.Put, "/v1/datasets/kept", Http.OperatorKey,
                await File.ReadAllBytesAsync(Path.Combine(Repository.Root, "data", "weather", "dataset.json")))).EnsureSuccessStatusCode();
            var reading = new DePIN.Core.Datasets.Contribution("kept", node.Id, "weather-station", new DateTimeOffset(2012, 1, 1, 0, 0, 0, TimeSpan.Zero),
                47.61, -122.33, "test", new Dictionary<string, DePIN.Core.Datasets.FieldValue>
                {
                    ["precipitation"] = DePIN.Core.Datasets.FieldValue.Of(0.5), ["temp_max"] = DePIN.Core.Datasets.FieldValue.Of(9),
                    ["temp_min"] = DePIN.Core.Datasets.FieldValue.Of(2), ["wind"] = DePIN.Core.Datasets.FieldValue.Of(3), ["weather"] = DePIN.Core.Datasets.FieldValue.Of("rain"),
                });
            using (var contributed = await second.Http.PostAsJsonAsync("/v1/datasets/kept/contributions", ContributionRequest.Sign(reading, node.Signer), ApiJson.Options))
            {
                Assert.Equal(HttpStatusCode.Created, contributed.StatusCode);
                receipt = (await contributed.Content.ReadFromJsonAsync<ContributionReceipt>(ApiJson.Options))!;
            }

            dataset = (await first.Http.Find<DatasetInfo>("/v1/datasets/kept"))!;
            head = await ledger.Head();
            balance = await ledger.Balance(AccountId.Tenant(key.Split('.')[0]));
            await first.Stop();
            await second.Stop();
        }

        await using var fresh = await ServiceProcess.StartSilo(database, clusterId, settings);
        var after = await Details(fresh, node.Id) ?? throw new InvalidOperationException("The node is gone after the restart.");

        Assert.Equal(before.PublicKey, after.PublicKey);
        Assert.Equal(before.Capabilities, after.Capabilities);
        Assert.Equal(before.RegisteredAt, after.RegisteredAt);
        Assert.Equal(NodeStatus.Online, after.Status);
        Assert.Equal(3, after.LastSequence);
        Assert.Equal(3, after.Counters.Accepted);
        Assert.Equal(before.Telemetry, after.Telemetry);
        var listed = await fresh.Http.GetFromJsonAsync<NodeSummary[]>("/v1/nodes?region=eu-west", ApiJson.Options);
        Assert.Contains(listed!, n => n.NodeId == node.Id && n.Status == NodeStatus.Online);

        // The sequence watermark survived too: the last batch replayed after the restart is refused.
        Assert.Equal(HttpStatusCode.Accepted, (await node.Send(fresh.Http, node.Batch(3, sent.AddSeconds(3)))).StatusCode);
        var replayed = await Wait.Until(() => Details(fresh, node.Id), n => n!.Counters.Replayed == 1, "the replay to be counted");
        Assert.Equal(3, replayed!.LastSequence);

        // The job, the dataset's log and the money are back as they were, and the chain still verifies.
        var freshLedger = new LedgerApi(fresh.Http);
        var jobAfter = (await fresh.Http.Find<JobDetails>("/v1/jobs/kept", key))!;
        Assert.Equal((job.Status, job.Reason, job.Attempts, job.SubmittedAt), (jobAfter.Status, jobAfter.Reason, jobAfter.Attempts, jobAfter.SubmittedAt));
        Assert.Equal(dataset.TreeHead, (await fresh.Http.Find<DatasetInfo>("/v1/datasets/kept"))!.TreeHead);
        Assert.Equal(receipt.LeafIndex, (await fresh.Http.Find<RecordLocation>($"/v1/datasets/kept/records/{receipt.ContentHash}"))!.LeafIndex);
        Assert.Equal(head, await freshLedger.Head());
        Assert.Equal(balance, await freshLedger.Balance(AccountId.Tenant(key.Split('.')[0])));
        var report = LedgerApi.Verify(await freshLedger.Chain());
        Assert.True(report.Valid, string.Join("\n", report.Problems));
    }

    [Fact]
    public async Task Killing_the_silo_that_hosts_a_nodes_grain_loses_no_acknowledged_batch_and_telemetry_continues()
    {
        var database = await postgres.CreateDatabase();
        var clusterId = $"failover-{Guid.NewGuid():N}";
        // No checkpoint during the test: what the revived grain knows of the batches, it knows from the journal.
        var settings = new Dictionary<string, string>(SlowLiveness) { ["Nodes:CheckpointInterval"] = "01:00:00" };
        await using var first = await ServiceProcess.StartSilo(database, clusterId, settings);
        await using var second = await ServiceProcess.StartSilo(database, clusterId, settings);
        using var node = TestNode.Create(region: "us-east");
        var start = DateTimeOffset.UtcNow;

        (await node.Register(first.Http, start)).EnsureSuccessStatusCode();
        var batches = Enumerable.Range(1, 3).Select(i => node.Batch(i, start.AddMilliseconds(i))).ToList();
        foreach (var batch in batches)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await node.Send(first.Http, batch)).StatusCode);
        }

        var before = await Wait.Until(() => Details(first, node.Id), n => n!.LastSequence == 3, "three batches to be applied");

        // Kill -9 whichever silo hosts the node's grain; the other one carries on.
        var host = await HostOf(database, clusterId, node.Id);
        var (victim, survivor) = host == first.SiloPort ? (first, second) : (second, first);
        await victim.Kill();

        // The node's grain comes back on the survivor with what it had written: nothing acknowledged is lost.
        var revived = await Wait.Until(() => Details(survivor, node.Id), n => n is not null,
            "the node's grain to come back on the surviving silo", TimeSpan.FromSeconds(90));
        Assert.Equal(before!.PublicKey, revived!.PublicKey);
        Assert.Equal(before.Capabilities, revived.Capabilities);
        Assert.Equal(before.RegisteredAt, revived.RegisteredAt);
        Assert.Equal(NodeStatus.Online, revived.Status);
        Assert.Equal((3, 3), (revived.LastSequence, revived.Counters.Accepted)); // every acknowledged batch, once
        Assert.Equal(before.Telemetry, revived.Telemetry);
        Assert.Equal(before.LastHeardAt, revived.LastHeardAt);

        // A batch signed before the crash and replayed after it is refused: the journal gave back its sequence number.
        var rejectedBefore = await Rejections(survivor);
        await SendUntilAccepted(survivor, node, batches[2]);
        await Wait.Until(() => Rejections(survivor), n => n > rejectedBefore, "the replayed batch to be refused", TimeSpan.FromSeconds(90));

        // The agent keeps sampling: fresh batches until the grain, back on the survivor, takes one.
        long sequence = 3;
        var after = await Wait.Until(async () =>
        {
            using var response = await node.Send(survivor.Http, node.Batch(++sequence, DateTimeOffset.UtcNow));
            return await Details(survivor, node.Id);
        }, n => n?.LastSequence > 3, "telemetry to continue on the surviving silo", TimeSpan.FromSeconds(60));

        Assert.Equal(before.Capabilities, after!.Capabilities);
        Assert.Equal(NodeStatus.Online, after.Status);
        Assert.True(after.LastHeardAt > before.LastHeardAt);
    }

    [Fact]
    public async Task Two_silos_starting_together_apply_the_schema_once()
    {
        var database = await postgres.CreateDatabase();
        var clusterId = $"schema-{Guid.NewGuid():N}";

        var starting = new[] { ServiceProcess.StartSilo(database, clusterId), ServiceProcess.StartSilo(database, clusterId) };
        await using var a = await starting[0];
        await using var b = await starting[1];

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var versions = new NpgsqlCommand("SELECT version, count(*) FROM depin_schema_migrations GROUP BY version", connection);
        await using (var reader = await versions.ExecuteReaderAsync())
        {
            var rows = 0;
            while (await reader.ReadAsync())
            {
                Assert.Equal(1, reader.GetInt64(1));
                rows++;
            }

            Assert.True(rows >= 1);
        }

        await using var silos = new NpgsqlCommand(
            "SELECT count(*) FROM orleans_membership WHERE deployment_id = @cluster AND status = 3", connection);
        silos.Parameters.AddWithValue("cluster", clusterId);
        Assert.Equal(2L, await silos.ExecuteScalarAsync());

        // A third start finds nothing left to apply and joins the same cluster.
        await using var c = await ServiceProcess.StartSilo(database, clusterId);
        Assert.Equal(3L, await silos.ExecuteScalarAsync());
    }

    private static async Task<double> Rejections(ServiceProcess silo)
    {
        var metrics = await silo.Http.GetStringAsync("/metrics");
        return MetricsText.Value(metrics, "depin_telemetry_rejected_total", ("reason", "replayed")) +
               MetricsText.Value(metrics, "depin_telemetry_rejected_total", ("reason", "stale"));
    }

    // Null while the cluster cannot answer (503 during a fail-over, or no answer in time).
    private static Task<NodeDetails?> Details(ServiceProcess silo, string nodeId) => silo.Http.Find<NodeDetails>($"/v1/nodes/{nodeId}");

    // During a fail-over the cluster answers 503 until the dead silo is declared dead; agents retry, so does this.
    private static Task SendUntilAccepted(ServiceProcess silo, TestNode node, DePIN.Abstractions.Telemetry.TelemetryBatch batch) =>
        Wait.Until(async () =>
        {
            using var response = await node.Send(silo.Http, batch);
            return response.StatusCode;
        }, status => status == HttpStatusCode.Accepted, $"batch {batch.Sequence} to be accepted", TimeSpan.FromSeconds(60));

    // The silo port of the silo hosting the node's grain, asked through the SDK's Orleans client.
    private static async Task<int> HostOf(string database, string clusterId, string nodeId)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDePINClient(o =>
        {
            o.ConnectionString = database;
            o.ClusterId = clusterId;
            o.ServiceId = clusterId;
        });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var client = host.Services.GetRequiredService<IClusterClient>();
            var address = await client.GetGrain<IManagementGrain>(0).GetActivationAddress(client.GetGrain<INodeGrain>(nodeId));
            return address?.Endpoint.Port ?? throw new InvalidOperationException($"Node {nodeId}'s grain is not active anywhere.");
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
