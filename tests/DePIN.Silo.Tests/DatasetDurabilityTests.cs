using System.Collections.Concurrent;
using System.Net.Http.Json;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Http;
using DePIN.Core.Datasets;
using DePIN.Testing;
using Npgsql;

namespace DePIN.Silo.Tests;

/// <summary>A silo killed while it appends: what it acknowledged stays, and the log stays one consistent tree.</summary>
public sealed class DatasetDurabilityTests(PostgresServer postgres)
{
    private const string Name = "killed-weather";
    private const int Records = 2000;

    [Fact]
    public async Task A_silo_killed_mid_append_loses_no_acknowledged_contribution_and_leaves_the_log_consistent()
    {
        var database = await postgres.CreateDatabase();
        var clusterId = $"datasets-{Guid.NewGuid():N}";
        using var station = TestNode.Create();
        var requests = Enumerable.Range(0, Records).Select(i => Contributions.Sign(Reading(station, i), station.Signer)).ToArray();
        var acknowledged = new ConcurrentDictionary<int, ContributionReceipt>();

        await using (var first = await ServiceProcess.StartSilo(database, clusterId, SiloOnPostgres.Settings))
        {
            var api = new JobApi(first.Http);
            var key = await api.NewTenant();
            (await api.Send(HttpMethod.Put, $"/v1/datasets/{Name}", key, Definition(key.Split('.')[0]))).EnsureSuccessStatusCode();
            (await station.Register(first.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
            var next = -1;
            var posting = Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < Records)
                {
                    try
                    {
                        using var response = await Post(first.Http, requests[i]);
                        if (response.IsSuccessStatusCode)
                        {
                            acknowledged[i] = (await response.Content.ReadFromJsonAsync<ContributionReceipt>(ApiJson.Options))!;
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                    {
                        return; // the silo is gone
                    }
                }
            }));
            await Wait.Until(() => Task.FromResult(acknowledged.Count), n => n >= 300, "300 acknowledged contributions");
            await first.Kill();
            await posting;
        }

        var before = acknowledged.ToDictionary();
        // The service starts again on the same database; a new cluster id spares the lone new silo from waiting out
        // the dead one's membership entry (a real deployment's survivors would declare it dead).
        var restart = new Dictionary<string, string>(SiloOnPostgres.Settings) { ["Orleans:ClusterId"] = clusterId + "-restarted" };
        await using var second = await ServiceProcess.StartSilo(database, clusterId, restart);
        var head = (await Wait.Until(() => second.Http.Find<DatasetInfo>($"/v1/datasets/{Name}"), i => i is not null, "the dataset after the restart"))!.TreeHead;
        var (rows, lastIndex) = await Leaves(database);

        Assert.InRange(before.Count, 300, Records - 1);
        Assert.Equal((head.Size, head.Size - 1), (rows, lastIndex));
        foreach (var (i, receipt) in before)
        {
            Assert.InRange(receipt.LeafIndex, 0, head.Size - 1);
            var inclusion = await Proof(second, $"inclusion?leaf={receipt.LeafIndex}&size={head.Size}");
            Assert.True(MerkleProof.VerifyInclusion(Leaf(requests[i]), receipt.LeafIndex, head.Size, inclusion, Convert.FromHexString(head.Root)), $"record {i}");
        }

        foreach (var earlier in before.Values.Select(r => r.TreeHead).DistinctBy(h => h.Size))
        {
            var consistency = await Proof(second, $"consistency?first={earlier.Size}&second={head.Size}");
            Assert.True(MerkleProof.VerifyConsistency(earlier.Size, head.Size, consistency, Convert.FromHexString(earlier.Root), Convert.FromHexString(head.Root)));
        }

        // Sending everything again: the acknowledged get their first receipts, the rest are appended once.
        var again = new ContributionReceipt[Records];
        await Parallel.ForAsync(0, Records, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            using var response = await Post(second.Http, requests[i]);
            response.EnsureSuccessStatusCode();
            again[i] = (await response.Content.ReadFromJsonAsync<ContributionReceipt>(ApiJson.Options))!;
        });

        Assert.All(before, a => Assert.Equal(a.Value with { Duplicate = true }, again[a.Key]));
        Assert.Equal(Records, again.Select(r => r.LeafIndex).Distinct().Count());
        Assert.Equal((long)Records, (await Leaves(database)).Rows);
    }

    private static DatasetDefinition Definition(string owner) => new(
        "Readings of one station", "CC0-1.0", owner,
        [new DatasetField("temp_max", DatasetFieldType.Number, "°C", -60, 60)],
        new ContributorPolicy(ContributorPolicyKind.AnyRegistered));

    private static Contribution Reading(TestNode node, int minute) => new(
        Name, node.Id, "weather-station", new DateTimeOffset(2012, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(minute), 47.61, -122.33, "test",
        new Dictionary<string, FieldValue> { ["temp_max"] = FieldValue.Of(minute % 40) });

    private static Task<HttpResponseMessage> Post(HttpClient http, ContributionRequest request) =>
        http.PostAsync($"/v1/datasets/{Name}/contributions", JsonContent.Create(request, options: ApiJson.Options));

    private static async Task<byte[][]> Proof(ServiceProcess silo, string query)
    {
        var proof = await silo.Http.GetFromJsonAsync<MerkleProofView>($"/v1/datasets/{Name}/proofs/{query}", ApiJson.Options);
        return [.. proof!.Hashes.Select(Convert.FromHexString)];
    }

    private static byte[] Leaf(ContributionRequest request)
    {
        var (signed, _) = Contributions.Parse(request);
        return MerkleHash.Leaf(Contribution.LeafEntry(signed!.Record, signed.PublicKey, signed.Signature));
    }

    /// <summary>Rows in the records table and the highest leaf index: equal to the size, and one less, when no leaf is missing.</summary>
    private static async Task<(long Rows, long LastIndex)> Leaves(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*), coalesce(max(leaf_index), -1) FROM depin_dataset_records WHERE dataset = $1", connection);
        command.Parameters.AddWithValue(Name);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
