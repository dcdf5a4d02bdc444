using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Http;
using DePIN.Bench.Ingest;
using DePIN.Core.Datasets;
using DePIN.Core.Identity;
using DePIN.Testing;
using HdrHistogram;
using Npgsql;

namespace DePIN.Bench.Datasets;

public sealed record DatasetSettings(int Contributors, int Seconds, int Concurrency, string? Postgres);

/// <summary>
/// Signed contributions into one dataset on a local silo over PostgreSQL: each is decoded, signature-checked,
/// schema-checked and appended, and counted only when its group's transaction has committed and the call returned.
/// Records are signed before the window, as the contributing nodes would have. Baseline in the same run and on the
/// same database: the same signature check and one row per transaction, as an append without group commit would
/// do. Then the same contributions over real HTTP, and proof size and verification time on a 1,000,000-leaf log.
/// </summary>
public static class DatasetScenario
{
    private const string Dataset = "bench-weather";
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    public static Func<Task<JsonObject>> Prepare(DatasetSettings settings, TextWriter progress) => () => Run(settings, progress);

    private static async Task<JsonObject> Run(DatasetSettings s, TextWriter progress)
    {
        await using var server = new PostgresServer { Durable = true };
        string connection;
        if (s.Postgres is { } given)
        {
            connection = given;
        }
        else
        {
            await server.InitializeAsync();
            connection = await server.CreateDatabase();
            progress.WriteLine("dataset: started a throw-away PostgreSQL server");
        }

        var (silo, port) = await BenchSilo.Start(connection);
        await using var _ = silo;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        };

        var nodes = Enumerable.Range(0, s.Contributors).Select(BenchNode.Create).ToArray();
        await Parallel.ForEachAsync(nodes, new ParallelOptions { MaxDegreeOfParallelism = 32 },
            async (node, cancellationToken) => await node.Register(http, cancellationToken));
        var signers = nodes.Select(n => n.Signer).ToArray();
        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        var dataset = grains.GetGrain<IDatasetGrain>(Dataset);
        if (await dataset.Create(Definition()) is { } refused)
        {
            throw new InvalidOperationException(refused);
        }

        // Enough signed records for the warm-up, the window and the baseline at up to 40,000/s.
        var needed = (int)Math.Min(3_000_000, 40_000 * (WarmUp.TotalSeconds + s.Seconds));
        var clock = Stopwatch.StartNew();
        var records = Sign(signers, needed);
        progress.WriteLine($"dataset: {s.Contributors} contributors registered, {records.Length} records signed in {clock.Elapsed.TotalSeconds:0.0} s");

        var next = 0;
        SignedContribution Take() => records[Interlocked.Increment(ref next) - 1];
        await Load(s.Concurrency, WarmUp, () => dataset.Contribute(Take()));
        var window = await Load(s.Concurrency, TimeSpan.FromSeconds(s.Seconds), () => dataset.Contribute(Take()));
        var perSecond = window.Count / window.Elapsed.TotalSeconds;
        progress.WriteLine($"dataset: {window.Count} contributions acknowledged in {window.Elapsed.TotalSeconds:0.0} s, {window.Failed} failed");

        var baseline = await SingleRowCommits(connection, records, s.Concurrency, TimeSpan.FromSeconds(Math.Min(10, s.Seconds)), progress);
        var overHttp = await OverHttp(http, signers, s.Concurrency, TimeSpan.FromSeconds(Math.Min(10, s.Seconds)));
        progress.WriteLine($"dataset: baseline {baseline:0}/s, over HTTP {overHttp:0}/s");
        var size = (await dataset.Get())!.TreeHead.Size;
        var (proofBytes, verifyMicroseconds) = Proofs(1_000_000);
        await silo.StopAsync();

        return new JsonObject
        {
            ["scenario"] = "dataset",
            ["contributors"] = s.Contributors,
            ["contributions_per_s"] = Math.Round(perSecond, 1),
            ["p50_ack_ms"] = Math.Round(window.Histogram.GetValueAtPercentile(50) / 1000.0, 2),
            ["p99_ack_ms"] = Math.Round(window.Histogram.GetValueAtPercentile(99) / 1000.0, 2),
            ["failed"] = window.Failed,
            ["baseline_single_row_commits_per_s"] = Math.Round(baseline, 1),
            ["ratio"] = Math.Round(perSecond / baseline, 2),
            ["http_contributions_per_s"] = Math.Round(overHttp, 1),
            ["log_size"] = size,
            ["proof_bytes_1m"] = proofBytes,
            ["proof_verify_us"] = Math.Round(verifyMicroseconds, 2),
            ["seconds"] = s.Seconds,
            ["concurrency"] = s.Concurrency,
        };
    }

    private static DatasetDefinition Definition() => new(
        "Benchmark weather readings", "CC0-1.0", "bench",
        [
            new DatasetField("temp_max", DatasetFieldType.Number, "°C", -60, 60),
            new DatasetField("temp_min", DatasetFieldType.Number, "°C", -60, 60),
            new DatasetField("precipitation", DatasetFieldType.Number, "mm", 0, 500),
            new DatasetField("wind", DatasetFieldType.Number, "m/s", 0, 100),
            new DatasetField("weather", DatasetFieldType.Text, Allowed: ["drizzle", "rain", "sun", "snow", "fog"]),
        ],
        new ContributorPolicy(ContributorPolicyKind.AnyRegistered));

    /// <summary>
    /// A station's reading of the weather at minute <paramref name="sequence"/>: one shared truth, as co-located
    /// stations see it, plus a little sensor noise of the station's own, so honest stations agree with each other.
    /// </summary>
    private static Contribution Reading(string nodeId, long sequence)
    {
        var minute = new DateTimeOffset(2012, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(sequence);
        var phase = sequence / 600.0;
        var noise = ((unchecked((ulong)sequence * 2654435761UL) >> 8 & 0xff) / 255.0) - 0.5; // ±0.5, fixed per record
        return new Contribution(Dataset, nodeId, "weather-station", minute, 47.61, -122.33, "bench",
            new Dictionary<string, FieldValue>
            {
                ["temp_max"] = FieldValue.Of(Math.Round(15 + (5 * Math.Sin(phase)) + noise, 2)),
                ["temp_min"] = FieldValue.Of(Math.Round(6 + (3 * Math.Sin(phase)) + noise, 2)),
                ["precipitation"] = FieldValue.Of(Math.Round(2 + Math.Cos(phase) + (noise / 2), 2)),
                ["wind"] = FieldValue.Of(Math.Round(4 + Math.Sin(phase / 3) + (noise / 2), 2)),
                ["weather"] = FieldValue.Of("rain"),
            });
    }

    private static SignedContribution[] Sign(NodeSigner[] signers, int count)
    {
        var records = new SignedContribution[count];
        Parallel.For(0, count, i =>
        {
            var signer = signers[i % signers.Length];
            var canonical = Reading(signer.NodeId, i).ToCanonical();
            records[i] = new SignedContribution(canonical, signer.PublicKey, signer.Sign(canonical));
        });
        return records;
    }

    private sealed record Window(long Count, long Failed, TimeSpan Elapsed, HistogramBase Histogram);

    /// <summary>Runs <paramref name="concurrency"/> callers for <paramref name="duration"/>, timing each call.</summary>
    private static async Task<Window> Load(int concurrency, TimeSpan duration, Func<Task<ContributionResult>> call)
    {
        var histogram = new LongConcurrentHistogram(1, 60_000_000, 3);
        long count = 0, failed = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            await Task.Yield();
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                var result = await call();
                histogram.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds));
                if (result.Receipt is { Duplicate: false })
                {
                    Interlocked.Increment(ref count);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }));
        return new Window(count, failed, clock.Elapsed, histogram);
    }

    /// <summary>The same signature check, then one INSERT per transaction: durable appends without grouping.</summary>
    private static async Task<double> SingleRowCommits(string connection, SignedContribution[] records, int concurrency, TimeSpan duration, TextWriter progress)
    {
        await using var db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connection) { MaxPoolSize = 32 }.ConnectionString);
        await using (var create = db.CreateCommand("CREATE TABLE bench_single_rows (content_hash bytea PRIMARY KEY, record bytea NOT NULL, public_key bytea NOT NULL, signature bytea NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var next = records.Length / 2;
        long count = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            await Task.Yield();
            while (clock.Elapsed < duration)
            {
                var record = records[Interlocked.Increment(ref next) % records.Length];
                if (NodeIdentity.TryImportPublicKey(record.PublicKey) is not { } key || !NodeIdentity.Verify(key, record.Record, record.Signature))
                {
                    throw new InvalidOperationException("A benchmark record does not verify.");
                }

                await using var insert = db.CreateCommand("INSERT INTO bench_single_rows VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING");
                insert.Parameters.AddWithValue(Contribution.ContentHash(record.Record));
                insert.Parameters.AddWithValue(record.Record);
                insert.Parameters.AddWithValue(record.PublicKey);
                insert.Parameters.AddWithValue(record.Signature);
                await insert.ExecuteNonQueryAsync();
                Interlocked.Increment(ref count);
            }
        }));
        progress.WriteLine($"dataset: baseline committed {count} single rows in {clock.Elapsed.TotalSeconds:0.0} s");
        return count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Fresh records posted as JSON to <c>/v1/datasets/{name}/contributions</c>; counts 201s per second.</summary>
    private static async Task<double> OverHttp(HttpClient http, NodeSigner[] signers, int concurrency, TimeSpan duration)
    {
        var bodies = Enumerable.Range(0, 400_000).AsParallel().AsOrdered().Select(i =>
        {
            var signer = signers[i % signers.Length];
            return JsonSerializer.SerializeToUtf8Bytes(Contributions.Sign(Reading(signer.NodeId, 10_000_000 + i), signer), ApiJson.Options);
        }).ToArray();
        var next = 0;
        long created = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, 64)).Select(async _ =>
        {
            await Task.Yield();
            while (clock.Elapsed < duration)
            {
                var content = new ByteArrayContent(bodies[Interlocked.Increment(ref next) % bodies.Length]);
                content.Headers.ContentType = new("application/json");
                using var response = await http.PostAsync($"/v1/datasets/{Dataset}/contributions", content);
                if ((int)response.StatusCode == 201)
                {
                    Interlocked.Increment(ref created);
                }
            }
        }));
        return created / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Bytes of an inclusion proof in a log of <paramref name="leaves"/>, and mean microseconds to verify one.</summary>
    private static (int Bytes, double Microseconds) Proofs(int leaves)
    {
        // Every level of the tree in memory, so that proofs for sampled leaves cost lookups.
        var levels = new List<byte[][]> { Enumerable.Range(0, leaves).Select(i => MerkleHash.Leaf(BitConverter.GetBytes(i))).ToArray() };
        while (levels[^1].Length > 1)
        {
            var below = levels[^1];
            levels.Add([.. Enumerable.Range(0, below.Length / 2).Select(i => MerkleHash.Node(below[2 * i], below[(2 * i) + 1]))]);
        }

        byte[] RangeHash((long Start, long End) range) =>
            CompactFrontier.Fold([.. MerkleNode.Cover(range.Start, range.End).Select(n => levels[n.Level][n.Index])]);

        var frontier = new CompactFrontier();
        foreach (var leaf in levels[0])
        {
            frontier.Append(leaf);
        }

        var root = frontier.Root();
        var random = new Random(1);
        var samples = Enumerable.Range(0, 2000).Select(_ => random.Next(leaves))
            .Select(i => (Index: i, Proof: MerkleProof.InclusionRanges(i, leaves).Select(RangeHash).ToArray())).ToArray();
        var clock = Stopwatch.StartNew();
        const int rounds = 5;
        for (var r = 0; r < rounds; r++)
        {
            foreach (var (index, proof) in samples)
            {
                if (!MerkleProof.VerifyInclusion(levels[0][index], index, leaves, proof, root))
                {
                    throw new InvalidOperationException($"The proof of leaf {index} does not verify.");
                }
            }
        }

        var microseconds = clock.Elapsed.TotalMicroseconds / (rounds * samples.Length);
        return ((int)samples.Average(p => p.Proof.Length * MerkleHash.Size), microseconds);
    }
}
