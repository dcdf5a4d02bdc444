using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Http;
using DePIN.Client.Datasets;
using DePIN.Core.Datasets;
using DePIN.Core.Economy;
using DePIN.Core.Identity;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>Datasets over HTTP against a real silo on PostgreSQL: contributions, receipts, proofs, refusals.</summary>
public sealed class DatasetApiTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>
{
    private static readonly DateTimeOffset Day = new(2012, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly JobApi _api = new(cluster.Http);

    private HttpClient Http => cluster.Http;

    [Fact]
    public async Task Signed_contributions_are_acknowledged_with_leaves_and_signed_heads_whose_proofs_verify_with_public_keys_alone()
    {
        var (name, _) = await NewDataset();
        using var station = await Registered();
        var receipts = new List<ContributionReceipt>();
        var requests = Enumerable.Range(0, 5).Select(i => Contributions.Sign(Reading(name, station, Day.AddDays(i), 10 + i), station.Signer)).ToList();
        foreach (var request in requests)
        {
            using var response = await Contribute(name, request);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            receipts.Add((await response.Content.ReadFromJsonAsync<ContributionReceipt>(ApiJson.Options))!);
        }

        using var retried = await Contribute(name, requests[2]);
        var retry = await retried.Content.ReadFromJsonAsync<ContributionReceipt>(ApiJson.Options);
        var keys = (await Http.GetFromJsonAsync<PlatformKeys>("/v1/platform/keys", ApiJson.Options))!;
        var platformKey = NodeIdentity.TryImportPublicKey(Convert.FromBase64String(keys.TreeHeadPublicKey))!;
        var last = receipts[^1].TreeHead;
        var inclusion = (await Http.GetFromJsonAsync<MerkleProofView>($"/v1/datasets/{name}/proofs/inclusion?leaf=2&size={last.Size}", ApiJson.Options))!;
        var first = receipts[1].TreeHead;
        var consistency = (await Http.GetFromJsonAsync<MerkleProofView>($"/v1/datasets/{name}/proofs/consistency?first={first.Size}&second={last.Size}", ApiJson.Options))!;
        var location = await Http.GetFromJsonAsync<RecordLocation>($"/v1/datasets/{name}/records/{receipts[3].ContentHash}", ApiJson.Options);

        Assert.Equal([0L, 1, 2, 3, 4], receipts.Select(r => r.LeafIndex));
        Assert.All(receipts, r => Assert.True(TreeHead.Verify(platformKey, name, r.TreeHead.Size, r.TreeHead.Timestamp, Convert.FromHexString(r.TreeHead.Root), Convert.FromBase64String(r.TreeHead.Signature))));
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(receipts[2] with { Duplicate = true }, retry);
        Assert.True(MerkleProof.VerifyInclusion(Leaf(requests[2]), 2, last.Size, Hashes(inclusion), Convert.FromHexString(last.Root)));
        Assert.False(MerkleProof.VerifyInclusion(Leaf(requests[3]), 2, last.Size, Hashes(inclusion), Convert.FromHexString(last.Root)));
        Assert.True(MerkleProof.VerifyConsistency(first.Size, last.Size, Hashes(consistency), Convert.FromHexString(first.Root), Convert.FromHexString(last.Root)));
        Assert.Equal(3, location!.LeafIndex);
        Assert.Equal(5, await cluster.Metric("depin_dataset_records", ("dataset", name)));
        Assert.True(await cluster.Metric("depin_dataset_contributions_total", ("outcome", "duplicate")) >= 1);
    }

    [Fact]
    public async Task Contributors_are_paid_once_for_each_accepted_record_by_quality_and_reputation_from_the_treasury()
    {
        var (name, _) = await NewDataset();
        using var station = await Registered();
        var ledger = new LedgerApi(Http);
        var account = AccountId.Contributor(station.Id);
        async Task ContributeDays(int from, int count)
        {
            for (var i = from; i < from + count; i++)
            {
                using var response = await Contribute(name, Contributions.Sign(Reading(name, station, Day.AddDays(i), 10 + i), station.Signer));
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            }
        }

        // A lone station has no neighbours to be checked against (quality 0.5) and a new node's reputation is 0.5, so
        // a record earns a quarter of the full reward, whichever rounds the records fall into.
        var perRecord = EconomyRules.Default.RewardPerRecord / 4;
        await ContributeDays(0, 3);
        await ledger.Fund(AccountId.Treasury, 1_000 * AccountId.PerCredit);
        await Wait.Until(() => ledger.Balance(account), b => b == 3 * perRecord, "the three records to be paid");
        await ContributeDays(3, 2);
        var statement = await Wait.Until(() => ledger.Statement(account), s => s.Sum(p => p.Credit) == 5 * perRecord, "the next two to be paid");
        var node = await cluster.NodeWhen(station.Id, n => n.Reputation.Records == 5, "the records to reach the node's reputation");

        // Each round pays the leaves after the last one's: together they cover leaves 0 to 4 once.
        var rounds = statement.Select(p => p.PostingId.Split(':')).Select(id => (Dataset: id[1], Range: id[2].Split('-').Select(long.Parse).ToArray())).ToList();
        Assert.All(statement, p => Assert.Equal(PostingKinds.Reward, p.Kind));
        Assert.All(rounds, r => Assert.Equal(name, r.Dataset));
        Assert.Equal(0, rounds[0].Range[0]);
        Assert.Equal(5, rounds[^1].Range[1]);
        Assert.All(rounds.Zip(rounds.Skip(1)), pair => Assert.Equal(pair.First.Range[1], pair.Second.Range[0]));
        Assert.Equal(2.5, node.Reputation.QualitySum);
    }

    [Fact]
    public async Task A_refused_contribution_says_why_and_changes_nothing()
    {
        var (name, _) = await NewDataset();
        var (listed, _) = await NewDataset(policy: new ContributorPolicy(ContributorPolicyKind.AllowList, ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]));
        using var station = await Registered();
        using var stranger = TestNode.Create();

        var good = Contributions.Sign(Reading(name, station, Day, 12), station.Signer);
        var forged = good with { Record = good.Record with { Values = Contributions.Sign(Reading(name, station, Day, 13), station.Signer).Record.Values } };
        using var badSignature = await Contribute(name, forged);
        using var unknown = await Contribute(name, Contributions.Sign(Reading(name, stranger, Day, 12), stranger.Signer));
        using var notListed = await Contribute(listed, Contributions.Sign(Reading(listed, station, Day, 12), station.Signer));
        using var outOfRange = await Contribute(name, Contributions.Sign(Reading(name, station, Day, 75), station.Signer));
        using var wrongDataset = await Contribute(name, Contributions.Sign(Reading(listed, station, Day, 12), station.Signer));
        var missing = Reading(name, station, Day, 12);
        missing = missing with { Values = missing.Values.Where(v => v.Key != "weather").ToDictionary() };
        using var incomplete = await Contribute(name, Contributions.Sign(missing, station.Signer));
        var huge = Reading(name, station, Day, 12);
        huge = huge with { Values = huge.Values.Concat(Enumerable.Range(0, 200).Select(i => KeyValuePair.Create($"pad{i:D3}", FieldValue.Of(new string('x', 100))))).ToDictionary() };
        using var oversize = await Contribute(name, Contributions.Sign(huge, station.Signer));
        using var noDataset = await Contribute("no-such-dataset", Contributions.Sign(Reading("no-such-dataset", station, Day, 12), station.Signer));
        var info = await Http.GetFromJsonAsync<DatasetInfo>($"/v1/datasets/{name}", ApiJson.Options);

        Assert.Equal((HttpStatusCode.Unauthorized, "urn:depin:problem:bad-signature"), (badSignature.StatusCode, await DePIN.Testing.Http.ProblemType(badSignature)));
        Assert.Equal((HttpStatusCode.Forbidden, "urn:depin:problem:unknown-contributor"), (unknown.StatusCode, await DePIN.Testing.Http.ProblemType(unknown)));
        Assert.Equal((HttpStatusCode.Forbidden, "urn:depin:problem:unauthorised"), (notListed.StatusCode, await DePIN.Testing.Http.ProblemType(notListed)));
        Assert.Equal(HttpStatusCode.BadRequest, outOfRange.StatusCode);
        Assert.Contains("above the maximum 60 °C", await outOfRange.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("record.values.temp_max", await outOfRange.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, wrongDataset.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, incomplete.StatusCode);
        Assert.Contains("record.values.weather", await incomplete.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oversize.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noDataset.StatusCode);
        Assert.Equal(0, info!.TreeHead.Size);
        Assert.Equal(MerkleHash.Empty.ToArray(), Convert.FromHexString(info.TreeHead.Root));
    }

    [Fact]
    public async Task The_same_reading_again_with_other_values_is_a_near_duplicate_and_is_refused()
    {
        var (name, _) = await NewDataset();
        using var station = await Registered();
        using var first = await Contribute(name, Contributions.Sign(Reading(name, station, Day, 12), station.Signer));
        using var altered = await Contribute(name, Contributions.Sign(Reading(name, station, Day, 12.5), station.Signer));
        using var retry = await Contribute(name, Contributions.Sign(Reading(name, station, Day, 12), station.Signer));
        using var next = await Contribute(name, Contributions.Sign(Reading(name, station, Day.AddDays(1), 12.5), station.Signer));
        var info = await Http.GetFromJsonAsync<DatasetInfo>($"/v1/datasets/{name}", ApiJson.Options);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal((HttpStatusCode.Conflict, "urn:depin:problem:near-duplicate"), (altered.StatusCode, await DePIN.Testing.Http.ProblemType(altered)));
        Assert.Contains("leaf 0", await altered.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(HttpStatusCode.Created, next.StatusCode);
        Assert.Equal(2, info!.TreeHead.Size);
    }

    [Fact]
    public async Task Creating_is_idempotent_a_different_definition_conflicts_and_a_tenant_creates_only_its_own()
    {
        var key = await _api.NewTenant();
        var tenant = key.Split('.')[0];
        var name = JobApi.Unique("ds");
        var definition = Definition(tenant);

        using var created = await _api.Send(HttpMethod.Put, $"/v1/datasets/{name}", key, definition);
        using var again = await _api.Send(HttpMethod.Put, $"/v1/datasets/{name}", key, definition);
        using var changed = await _api.Send(HttpMethod.Put, $"/v1/datasets/{name}", key, definition with { Licence = "CC0-1.0" });
        using var someoneElses = await _api.Send(HttpMethod.Put, $"/v1/datasets/{JobApi.Unique("ds")}", key, Definition("another-tenant"));
        using var anonymous = await _api.Send(HttpMethod.Put, $"/v1/datasets/{JobApi.Unique("ds")}", null, definition);
        using var badSchema = await _api.Send(HttpMethod.Put, $"/v1/datasets/{JobApi.Unique("ds")}", key,
            definition with { Fields = [new DatasetField("t", DatasetFieldType.Number, Min: 5, Max: 1)] });
        using var badName = await _api.Send(HttpMethod.Put, "/v1/datasets/Bad%20Name", key, definition);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, changed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, someoneElses.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badSchema.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
    }

    [Fact]
    public async Task A_snapshot_fixes_a_signed_head_with_its_sources_and_exports_its_records_as_json_and_csv()
    {
        var (name, key) = await NewDataset();
        using var west = await Registered("eu-west");
        using var east = await Registered("us-east");
        foreach (var (node, i) in new[] { (west, 0), (west, 1), (west, 2), (east, 3) })
        {
            using var response = await Contribute(name, Contributions.Sign(Reading(name, node, Day.AddDays(i), 10 + i), node.Signer));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        using var taken = await _api.Send(HttpMethod.Post, $"/v1/datasets/{name}/snapshots", key);
        using var again = await _api.Send(HttpMethod.Post, $"/v1/datasets/{name}/snapshots", key);
        using var stranger = await _api.Send(HttpMethod.Post, $"/v1/datasets/{name}/snapshots", await _api.NewTenant());
        var manifest = (await taken.Content.ReadFromJsonAsync<SnapshotManifest>(ApiJson.Options))!;
        using (var later = await Contribute(name, Contributions.Sign(Reading(name, east, Day.AddDays(9), 19), east.Signer)))
        {
            Assert.Equal(HttpStatusCode.Created, later.StatusCode);
        }

        var fetched = await Http.GetFromJsonAsync<SnapshotManifest>($"/v1/datasets/{name}/snapshots/4", ApiJson.Options);
        var exported = (await Http.GetFromJsonAsync<ExportedRecord[]>($"/v1/datasets/{name}/snapshots/4/records", ApiJson.Options))!;
        var csv = (await Http.GetStringAsync($"/v1/datasets/{name}/snapshots/4/records?format=csv")).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        using var missing = await Http.GetAsync($"/v1/datasets/{name}/snapshots/5");
        using var badFormat = await Http.GetAsync($"/v1/datasets/{name}/snapshots/4/records?format=xml");
        var platformKey = (await Http.GetFromJsonAsync<PlatformKeys>("/v1/platform/keys", ApiJson.Options))!.TreeHeadPublicKey;
        var proof = (await Http.GetFromJsonAsync<MerkleProofView>($"/v1/datasets/{name}/proofs/inclusion?leaf=3&size=4", ApiJson.Options))!;

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.NotFound), (taken.StatusCode, again.StatusCode, stranger.StatusCode));
        Assert.Equal((4L, manifest.TreeHead.Root), (manifest.Size, manifest.Root));
        Assert.True(DatasetVerifier.Head(manifest.TreeHead, platformKey).Valid);
        Assert.Equal([(west.Id, 3L), (east.Id, 1L)], manifest.Contributors.Select(c => (c.Source, c.Records)));
        Assert.Equal([("eu-west", 3L), ("us-east", 1L)], manifest.Regions.Select(c => (c.Source, c.Records)));
        Assert.Equal([("weather-station", 4L)], manifest.Sensors.Select(c => (c.Source, c.Records)));
        Assert.Equal((2, 0.25 * 2 + 0.75 * Math.Log2(4 / 3.0), 0.75), (manifest.Diversity["contributors"].Sources, manifest.Diversity["contributors"].EntropyBits, manifest.Diversity["contributors"].TopShare), new Tolerance());
        Assert.Equal(JsonSerializer.Serialize(manifest, ApiJson.Options), JsonSerializer.Serialize(fetched, ApiJson.Options));
        Assert.Equal([0L, 1, 2, 3], exported.Select(r => r.LeafIndex));
        var last = new ContributionRequest(exported[3].Record, exported[3].PublicKey, exported[3].Signature);
        Assert.True(DatasetVerifier.Inclusion(last, 3, manifest.TreeHead, proof, platformKey).Valid);
        Assert.Equal(5, csv.Length);
        Assert.Equal("leaf_index,content_hash,node_id,region,sensor,sampled_at,latitude,longitude,agent_version,temp_max,precipitation,weather,public_key,signature", csv[0]);
        Assert.StartsWith($"3,{exported[3].ContentHash},{east.Id},us-east,weather-station,2012-01-04T00:00:00.000Z,47.61,-122.33,test,13,0.5,rain,", csv[4], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badFormat.StatusCode);
    }

    [Fact]
    public async Task A_station_that_keeps_disagreeing_with_its_neighbours_is_quarantined_and_the_snapshot_says_so()
    {
        var (name, key) = await NewDataset();
        using var a = await Registered();
        using var b = await Registered();
        using var c = await Registered();
        using var liar = await Registered();
        var refused = new List<string?>();
        for (var hour = 0; hour < 30; hour++)
        {
            var truth = 12 + (4 * Math.Sin(hour / 5.0));
            var at = Day.AddHours(hour);
            foreach (var (node, reading, latitude) in new[] { (a, truth + 0.2, 47.60), (b, truth - 0.1, 47.64), (c, truth + 0.3, 47.56), (liar, truth + 15, 47.62) })
            {
                var record = Reading(name, node, at, Math.Round(reading, 2)) with { Latitude = latitude };
                using var response = await Contribute(name, Contributions.Sign(record, node.Signer));
                if (!response.IsSuccessStatusCode)
                {
                    Assert.Same(liar, node);
                    refused.Add(await DePIN.Testing.Http.ProblemType(response));
                }
            }
        }

        using var taken = await _api.Send(HttpMethod.Post, $"/v1/datasets/{name}/snapshots", key);
        var quality = (await taken.Content.ReadFromJsonAsync<SnapshotManifest>(ApiJson.Options))!.Quality;

        Assert.InRange(refused.Count, 1, 20);
        Assert.All(refused, type => Assert.Equal("urn:depin:problem:quarantined", type));
        Assert.Equal(1, quality.Quarantined);
        Assert.True(quality.Contributors.Single(q => q.NodeId == liar.Id) is { Quarantined: true, Score: < 0.5 });
        Assert.All(quality.Contributors.Where(q => q.NodeId != liar.Id), q => Assert.True(q.Score > 0.8, $"{q.NodeId}: {q.Score}"));
        Assert.True(await cluster.Metric("depin_contributors_quarantined") >= 1);
        Assert.True(await cluster.Metric("depin_dataset_contributions_total", ("outcome", "quarantined")) >= refused.Count);
    }

    /// <summary>Compares the entropy to 1e-4 (the manifest rounds), the rest exactly.</summary>
    private sealed class Tolerance : IEqualityComparer<(int, double, double)>
    {
        public bool Equals((int, double, double) x, (int, double, double) y) =>
            x.Item1 == y.Item1 && Math.Abs(x.Item2 - y.Item2) < 1e-4 && Math.Abs(x.Item3 - y.Item3) < 1e-4;

        public int GetHashCode((int, double, double) obj) => obj.Item1;
    }

    [Fact]
    public async Task The_depin_command_verifies_a_receipt_with_public_keys_and_refuses_a_tampered_record_or_head()
    {
        var (name, _) = await NewDataset();
        using var station = await Registered();
        var requests = Enumerable.Range(0, 3).Select(i => Contributions.Sign(Reading(name, station, Day.AddDays(i), 20 + i), station.Signer)).ToList();
        var receipts = new List<ContributionReceipt>();
        foreach (var request in requests)
        {
            using var response = await Contribute(name, request);
            receipts.Add((await response.Content.ReadFromJsonAsync<ContributionReceipt>(ApiJson.Options))!);
        }

        var key = (await Http.GetFromJsonAsync<PlatformKeys>("/v1/platform/keys", ApiJson.Options))!.TreeHeadPublicKey;
        var folder = Directory.CreateTempSubdirectory("depin-verify-").FullName;
        var tampered = requests[1] with { Record = requests[1].Record with { Values = new Dictionary<string, FieldValue>(requests[1].Record.Values) { ["temp_max"] = FieldValue.Of(35) } } };
        var forgedHead = receipts[1] with { TreeHead = receipts[1].TreeHead with { Root = receipts[2].TreeHead.Root } };

        var verified = await Depin(folder, requests[1], receipts[1], key);
        var changedRecord = await Depin(folder, tampered, receipts[1], key);
        var changedHead = await Depin(folder, requests[1], forgedHead, key);
        var otherKey = await Depin(folder, requests[1], receipts[1], Convert.ToBase64String(station.Signer.PublicKey));

        Assert.Equal(0, verified.ExitCode);
        Assert.Contains("\"included\":true", verified.Output, StringComparison.Ordinal);
        Assert.Contains("\"consistent\":true", verified.Output, StringComparison.Ordinal);
        Assert.Contains("\"latest_size\":3", verified.Output, StringComparison.Ordinal);
        Assert.Equal(1, changedRecord.ExitCode);
        Assert.Contains("signature", changedRecord.Error, StringComparison.Ordinal);
        Assert.Equal(1, changedHead.ExitCode);
        Assert.Contains("not signed by the platform key", changedHead.Error, StringComparison.Ordinal);
        Assert.Equal(1, otherKey.ExitCode);
    }

    private async Task<(int ExitCode, string Output, string Error)> Depin(string folder, ContributionRequest record, ContributionReceipt receipt, string key)
    {
        var recordFile = Path.Combine(folder, $"record-{Guid.NewGuid():N}.json");
        var receiptFile = Path.Combine(folder, $"receipt-{Guid.NewGuid():N}.json");
        await File.WriteAllBytesAsync(recordFile, JsonSerializer.SerializeToUtf8Bytes(record, ApiJson.Options));
        await File.WriteAllBytesAsync(receiptFile, JsonSerializer.SerializeToUtf8Bytes(receipt, ApiJson.Options));
        return await ProcessRunner.Capture("dotnet",
            [Repository.Built("DePIN.Cli", "depin"), "dataset", "verify", "--api", Http.BaseAddress!.ToString(), "--record", recordFile, "--receipt", receiptFile, "--key", key]);
    }

    private async Task<(string Name, string Key)> NewDataset(ContributorPolicy? policy = null)
    {
        var key = await _api.NewTenant();
        var name = JobApi.Unique("weather");
        using var response = await _api.Send(HttpMethod.Put, $"/v1/datasets/{name}", key, Definition(key.Split('.')[0], policy));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (name, key);
    }

    private static DatasetDefinition Definition(string owner, ContributorPolicy? policy = null) => new(
        "Daily weather", "BSD-3-Clause", owner,
        [
            new DatasetField("temp_max", DatasetFieldType.Number, "°C", -60, 60),
            new DatasetField("precipitation", DatasetFieldType.Number, "mm", 0, 500),
            new DatasetField("weather", DatasetFieldType.Text, Allowed: ["drizzle", "rain", "sun", "snow", "fog"]),
        ],
        policy ?? new ContributorPolicy(ContributorPolicyKind.AnyRegistered));

    private static Contribution Reading(string dataset, TestNode node, DateTimeOffset day, double tempMax) => new(
        dataset, node.Id, "weather-station", day, 47.61, -122.33, "test",
        new Dictionary<string, FieldValue>
        {
            ["temp_max"] = FieldValue.Of(tempMax),
            ["precipitation"] = FieldValue.Of(0.5),
            ["weather"] = FieldValue.Of("rain"),
        });

    private async Task<TestNode> Registered(string region = "test-1")
    {
        var node = TestNode.Create(region);
        using var response = await node.Register(Http, DateTimeOffset.UtcNow);
        response.EnsureSuccessStatusCode();
        return node;
    }

    private Task<HttpResponseMessage> Contribute(string dataset, ContributionRequest request) =>
        Http.PostAsync($"/v1/datasets/{dataset}/contributions", JsonContent.Create(request, options: ApiJson.Options));

    private static byte[] Leaf(ContributionRequest request)
    {
        var (signed, _) = Contributions.Parse(request);
        return MerkleHash.Leaf(Contribution.LeafEntry(signed!.Record, signed.PublicKey, signed.Signature));
    }

    private static byte[][] Hashes(MerkleProofView proof) => [.. proof.Hashes.Select(Convert.FromHexString)];
}
