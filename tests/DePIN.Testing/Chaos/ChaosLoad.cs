using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Jobs;
using DePIN.Core.Datasets;

namespace DePIN.Testing.Chaos;

/// <summary>
/// The run's clients other than the fleet: tenants submitting jobs and contributors appending signed records to two
/// datasets, each retrying until acknowledged, and an observer of the datasets' signed heads.
/// </summary>
public sealed class ChaosLoad(ChaosCluster cluster, ChaosHistory history, ChaosSettings settings)
{
    public static readonly string[] Datasets = ["chaos-a", "chaos-b"];

    public List<string> TenantKeys { get; } = [];

    /// <summary>Creates two funded tenants and the datasets, owned by the first.</summary>
    public async Task Prepare(Random random)
    {
        for (var i = 0; i < 2; i++)
        {
            TenantKeys.Add(await Acknowledged(random, async http => await new JobApi(http).NewTenant()));
        }

        var owner = TenantKeys[0].Split('.')[0];
        foreach (var name in Datasets)
        {
            var definition = new DatasetDefinition("Readings under chaos", "CC0-1.0", owner,
                [new DatasetField("temp", DatasetFieldType.Number, "°C", -60, 60)], new ContributorPolicy(ContributorPolicyKind.AnyRegistered));
            await Acknowledged(random, async http =>
            {
                using var response = await new JobApi(http).Send(HttpMethod.Put, $"/v1/datasets/{name}", TenantKeys[0], definition);
                return response.EnsureSuccessStatusCode();
            });
        }
    }

    /// <summary>
    /// A tenant's submissions, one every <see cref="ChaosSettings.SubmitEvery"/> until <paramref name="stop"/>, each
    /// retried until acknowledged (however long that takes, so the pace does not depend on the platform's latency).
    /// </summary>
    public async Task Submit(int tenant, Random random, CancellationToken stop)
    {
        var key = TenantKeys[tenant];
        var submissions = new List<Task>();
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            int replicas;
            ulong seed;
            lock (random)
            {
                replicas = random.Next(1, 3);
                seed = (ulong)random.NextInt64(1, long.MaxValue);
            }

            var spec = TestJob.Spec(replicas, cpuCores: 1) with { CheckpointSeconds = 150, Batch = new BatchWork(seed, settings.Steps) };
            var job = new SentJob(key, $"job-{tenant}-{n:D5}", spec);
            history.Jobs[(key, job.JobId)] = job;
            history.Operation();
            submissions.Add(Submit(job, new Random(random.Next())));
            await Task.Delay(settings.SubmitEvery, CancellationToken.None);
        }

        await Task.WhenAll(submissions);
    }

    private async Task Submit(SentJob job, Random random)
    {
        while (true)
        {
            using var response = await cluster.Send(() => Put($"/v1/jobs/{job.JobId}", job.Tenant, job.Spec), random);
            if (response is { StatusCode: HttpStatusCode.Created or HttpStatusCode.OK })
            {
                job.Acknowledged = true;
                return;
            }

            if (response is { StatusCode: not HttpStatusCode.TooManyRequests } refused)
            {
                history.Problem($"job {job.JobId}: submission refused with {(int)refused.StatusCode}: {await refused.Content.ReadAsStringAsync()}");
                return;
            }

            await Pause(random, 200, 800);
        }
    }

    /// <summary>A contributor's records, alternating between the datasets, each retried until it has its receipt.</summary>
    public async Task Contribute(TestNode contributor, int index, Random random, CancellationToken stop)
    {
        var origin = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var dataset = Datasets[n % Datasets.Length];
            double temp;
            lock (random)
            {
                temp = Math.Round(15 + (10 * random.NextDouble()), 2);
            }

            // Contributors sit more than 50 km apart, so quality checks find no peers and never quarantine them.
            var record = new Contribution(dataset, contributor.Id, "thermometer", origin.AddMinutes(n), -40 + (10 * index), 10, "chaos",
                new Dictionary<string, FieldValue> { ["temp"] = FieldValue.Of(temp) });
            var request = ContributionRequest.Sign(record, contributor.Signer);
            var canonical = record.ToCanonical();
            var leaf = MerkleHash.Leaf(Contribution.LeafEntry(canonical, contributor.Signer.PublicKey, Convert.FromBase64String(request.Signature)));
            Interlocked.Increment(ref history.ContributionsSent);
            history.Operation();
            while (true)
            {
                using var response = await cluster.Send(() => new HttpRequestMessage(HttpMethod.Post, $"/v1/datasets/{dataset}/contributions")
                {
                    Content = JsonContent.Create(request, options: ApiJson.Options),
                }, random);
                if (response is { StatusCode: HttpStatusCode.Created or HttpStatusCode.OK })
                {
                    var receipt = (await response.Content.ReadFromJsonAsync<ContributionReceipt>(ApiJson.Options))!;
                    history.Contributions.Enqueue(new AcknowledgedContribution(dataset, Convert.ToHexStringLower(SHA256.HashData(canonical)), leaf, receipt));
                    history.Heads.Enqueue(receipt.TreeHead);
                    break;
                }

                if (response is { StatusCode: not HttpStatusCode.TooManyRequests } refused)
                {
                    history.Problem($"contribution {dataset}/{contributor.Id[..8]}#{n}: refused with {(int)refused.StatusCode}: {await refused.Content.ReadAsStringAsync()}");
                    break;
                }

                await Pause(random, 200, 800);
            }

            await Pause(random, 700, 1300);
        }
    }

    /// <summary>Reads each dataset's latest signed head every two seconds until <paramref name="stop"/>.</summary>
    public async Task ObserveHeads(Random random, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            foreach (var name in Datasets)
            {
                using var response = await cluster.Send(() => new HttpRequestMessage(HttpMethod.Get, $"/v1/datasets/{name}"), random);
                if (response is { IsSuccessStatusCode: true })
                {
                    history.Heads.Enqueue((await response.Content.ReadFromJsonAsync<DatasetInfo>(ApiJson.Options))!.TreeHead);
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None);
        }
    }

    /// <summary>Calls <paramref name="call"/> on a live silo until it succeeds, ten tries at most (setup steps, before any fault).</summary>
    private async Task<T> Acknowledged<T>(Random random, Func<HttpClient, Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(cluster.Pick(random));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && attempt < 10)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    private static HttpRequestMessage Put<T>(string path, string key, T body) => new HttpRequestMessage(HttpMethod.Put, path)
    {
        Content = JsonContent.Create(body, options: ApiJson.Options),
    }.WithKey(key);

    private static Task Pause(Random random, int fromMs, int toMs)
    {
        double next;
        lock (random)
        {
            next = random.NextDouble();
        }

        return Task.Delay(TimeSpan.FromMilliseconds(fromMs + ((toMs - fromMs) * next)));
    }
}
