using System.Globalization;
using System.Net.Http.Json;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Core.Datasets;
using DePIN.Core.Economy;
using DePIN.Core.Identity;
using DePIN.Core.Work;

namespace DePIN.Testing.Chaos;

/// <summary>
/// Holds the platform's state after the run against the history: telemetry counters, jobs, slot holds, dataset logs
/// and heads, the ledger and recovery times. Every finding lands in <see cref="Problems"/>, so a failure says what
/// was found, not only that something was.
/// </summary>
public sealed class ChaosChecks(ChaosCluster cluster, ChaosHistory history, Random random)
{
    private const int Parallel = 8;

    public List<string> Problems { get; } = [];

    /// <summary>
    /// Per node: the counter <c>accepted</c> against the batches acknowledged (lost when fewer, duplicated when more than
    /// were ever sent), and the last sequence against the newest acknowledged and the newest sent.
    /// </summary>
    public async Task<(long Accepted, long Lost, long Duplicated, int NodesWithLoss)> Telemetry(IReadOnlyList<ChaosNode> nodes)
    {
        var details = await Read(nodes, n => $"/v1/nodes/{n.Id}", (NodeDetails d) => d);
        long accepted = 0, lost = 0, duplicated = 0;
        var withLoss = 0;
        foreach (var (node, seen) in nodes.Zip(details))
        {
            var log = history.Node(node.Id);
            if (seen is null)
            {
                Problems.Add($"telemetry: node {node.Id} could not be read");
                lost += log.Acknowledged;
                continue;
            }

            accepted += seen.Counters.Accepted;
            var missing = log.Acknowledged - seen.Counters.Accepted;
            var extra = seen.Counters.Accepted - log.Sent;
            lost += Math.Max(0, missing);
            duplicated += Math.Max(0, extra);
            withLoss += missing > 0 ? 1 : 0;
            if (extra > 0 || seen.LastSequence > log.Sent)
            {
                Problems.Add($"telemetry: node {node.Id} accepted {seen.Counters.Accepted} batches up to sequence {seen.LastSequence}, but only {log.Sent} were sent");
            }

            if (seen.LastSequence < log.LastAcknowledged)
            {
                Problems.Add($"telemetry: node {node.Id}{(node.Killed ? " (killed)" : "")}: last sequence {seen.LastSequence}, but {log.LastAcknowledged} was acknowledged");
            }
        }

        if (lost > 0)
        {
            Problems.Add($"telemetry: {lost} acknowledged batches missing from the counters of {withLoss} of {nodes.Count} nodes (acknowledged {nodes.Sum(n => history.Node(n.Id).Acknowledged)}, accepted {accepted})");
        }

        return (accepted, lost, duplicated, withLoss);
    }

    /// <summary>
    /// Every acknowledged job is listed exactly once in its tenant's index, has ended (details and listing agree), a
    /// succeeded one with the result the kernel gives; exactly one refund per job, every escrow empty, and each
    /// tenant's balance is its deposit less the leases its escrows paid, so nothing was charged or refunded twice.
    /// </summary>
    public async Task<(int Lost, int Duplicated, int Succeeded, int NotEnded)> Jobs(IReadOnlyList<string> tenantKeys, List<ChainedPostingView> chain)
    {
        var acknowledged = history.Jobs.Values.Where(j => j.Acknowledged).OrderBy(j => j.JobId, StringComparer.Ordinal).ToList();
        var listed = new Dictionary<(string, string), List<JobSummary>>();
        foreach (var key in tenantKeys)
        {
            foreach (var summary in await List(key))
            {
                listed.TryAdd((key, summary.JobId), []);
                listed[(key, summary.JobId)].Add(summary);
            }
        }

        foreach (var ((key, id), _) in listed.Where(l => !history.Jobs.ContainsKey(l.Key)))
        {
            Problems.Add($"jobs: {key.Split('.')[0]}/{id} is listed but was never submitted");
        }

        int lost = 0, duplicated = 0, succeeded = 0, notEnded = 0;
        var details = await Read(acknowledged, j => $"/v1/jobs/{j.JobId}", (JobDetails d) => d, j => j.Tenant);
        var refunds = chain.Where(p => p.Kind == PostingKinds.Refund).GroupBy(p => p.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var escrows = await Read(acknowledged, j => $"/v1/accounts/{AccountId.Escrow(Tenant(j.Tenant), j.JobId)}", (AccountView a) => a, _ => Http.OperatorKey);
        foreach (var (job, (detail, escrow)) in acknowledged.Zip(details.Zip(escrows)))
        {
            var name = $"{Tenant(job.Tenant)}/{job.JobId}";
            var rows = listed.GetValueOrDefault((job.Tenant, job.JobId)) ?? [];
            if (rows.Count == 0 || detail is null)
            {
                lost++;
                Problems.Add($"jobs: {name} was acknowledged but is {(rows.Count == 0 ? "not listed" : "listed without details")}");
                continue;
            }

            if (rows.Count > 1)
            {
                duplicated++;
                Problems.Add($"jobs: {name} is listed {rows.Count} times");
            }

            if (detail.Status is not (JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled))
            {
                notEnded++;
                Problems.Add($"jobs: {name} has not ended: {detail.Status} after {detail.Attempts} attempts ({detail.Reason}); {await Story(job, detail)}");
                continue;
            }

            if (rows[0].Status != detail.Status)
            {
                Problems.Add($"jobs: {name} is {detail.Status} but listed as {rows[0].Status}");
            }

            if (detail.Status == JobStatus.Succeeded)
            {
                succeeded++;
                var expected = Verification.Combine([.. Enumerable.Range(0, job.Spec.Replicas).Select(s => BatchKernel.Result(job.Spec.Batch!.Seed, s, job.Spec.Batch.Steps))]);
                if (detail.Result != expected)
                {
                    Problems.Add($"jobs: {name} succeeded with {detail.Result}, but its kernel gives {expected}");
                }
            }
            else
            {
                Problems.Add($"jobs: {name} ended {detail.Status}: {detail.Reason}");
            }

            if (refunds.GetValueOrDefault($"refund:{name}") != 1)
            {
                Problems.Add($"jobs: {name} has {refunds.GetValueOrDefault($"refund:{name}")} refund postings, not one");
            }

            if (escrow?.Balance != 0)
            {
                Problems.Add($"jobs: {name}'s escrow holds {escrow?.Balance.ToString(CultureInfo.InvariantCulture) ?? "(unreadable)"}");
            }
        }

        foreach (var key in tenantKeys)
        {
            var tenant = Tenant(key);
            var leased = chain.Where(p => p.Kind == PostingKinds.Lease).SelectMany(p => p.Entries).Where(e => AccountId.TenantOf(e.Account) == tenant).Sum(e => e.Debit);
            var held = acknowledged.Zip(escrows).Where(x => x.First.Tenant == key).Sum(x => x.Second?.Balance ?? 0);
            var account = (await Read([key], _ => $"/v1/accounts/{AccountId.Tenant(tenant)}", (AccountView a) => a, _ => Http.OperatorKey))[0];
            if (account?.Balance != JobApi.Funds - leased - held)
            {
                Problems.Add($"jobs: tenant {tenant} holds {account?.Balance} microcredits, not its deposit {JobApi.Funds} less the {leased} its escrows paid in leases and the {held} they still hold");
            }
        }

        return (lost, duplicated, succeeded, notEnded);
    }

    /// <summary>Why a job may be stuck: its current assignments, each node's status and whether the run killed it, and the run's holds of its slots.</summary>
    private async Task<string> Story(SentJob job, JobDetails detail)
    {
        var parts = new List<string>();
        foreach (var assignment in detail.Assignments)
        {
            var node = await Get<NodeDetails>($"/v1/nodes/{assignment.NodeId}");
            var killed = history.KilledNodes.TryGetValue(assignment.NodeId, out var at) ? string.Create(CultureInfo.InvariantCulture, $", killed by the run at {at.TotalSeconds:0.0} s") : "";
            parts.Add($"slot {assignment.Replica}@{assignment.Attempt} on {assignment.NodeId} ({node?.Status.ToString() ?? "unreadable"}{killed})");
        }

        var key = $"{Tenant(job.Tenant)}/{job.JobId}";
        parts.AddRange(history.Holds.Where(h => h.JobKey == key).Select(h => $"held {h}"));
        return string.Join("; ", parts);
    }

    /// <summary>
    /// No two nodes computed the same (job, slot) at once, and no node computed two attempts of it at once: any two holds
    /// of one slot by different nodes or attempts must not overlap in time. The protocol promises exactly that: a new
    /// attempt is placed only once every slot of the last one stopped, was taken as stopped after its node went offline
    /// (its lease lapsed first) or after the stop grace.
    /// </summary>
    public int Overlaps()
    {
        var end = history.Now;
        var overlaps = 0;
        foreach (var slot in history.Holds.GroupBy(h => (h.JobKey, h.Slot)))
        {
            var holds = slot.OrderBy(h => h.Start).ToList();
            for (var i = 0; i < holds.Count; i++)
            {
                for (var j = i + 1; j < holds.Count && holds[j].Start < (holds[i].End ?? end); j++)
                {
                    if (holds[i].NodeId != holds[j].NodeId || holds[i].Attempt != holds[j].Attempt)
                    {
                        overlaps++;
                        Problems.Add($"slots: {holds[i]} overlaps {holds[j]}");
                    }
                }
            }
        }

        return overlaps;
    }

    /// <summary>
    /// Per dataset: the exported log rebuilds the signed root; every acknowledged contribution is in it exactly once, at
    /// the leaf its receipt named, with the leaf hash its contributor computed; every observed head is signed by the
    /// platform, no two share a size with different roots, and each is consistent with the next larger one (so, the
    /// relation being transitive, every pair is).
    /// </summary>
    public async Task<(int Lost, int Duplicated, int Heads, int Proofs)> Datasets(IReadOnlyList<string> names)
    {
        int lost = 0, duplicated = 0, heads = 0, proofs = 0;
        var keys = await Get<PlatformKeys>("/v1/platform/keys");
        var platform = keys is null ? null : NodeIdentity.TryImportPublicKey(Convert.FromBase64String(keys.TreeHeadPublicKey));
        if (platform is null)
        {
            Problems.Add("datasets: the platform's tree-head key could not be read");
            return (0, 0, 0, 0);
        }

        foreach (var name in names)
        {
            var manifest = await Snapshot(name);
            var records = manifest is null ? null : await Get<ExportedRecord[]>($"/v1/datasets/{name}/snapshots/{manifest.Size}/records?format=json");
            var acknowledged = history.Contributions.Where(c => c.Dataset == name).ToList();
            if (manifest is null || records is null)
            {
                Problems.Add($"datasets: {name} could not be snapshotted and exported");
                lost += acknowledged.Count;
                continue;
            }

            var frontier = new CompactFrontier();
            var leaves = new List<byte[]>();
            foreach (var (record, index) in records.Select((r, i) => (r, i)))
            {
                if (record.LeafIndex != index)
                {
                    Problems.Add($"datasets: {name}'s export has leaf {record.LeafIndex} at position {index}");
                }

                var leaf = MerkleHash.Leaf(Contribution.LeafEntry(record.Record.ToCanonical(), Convert.FromBase64String(record.PublicKey), Convert.FromBase64String(record.Signature)));
                leaves.Add(leaf);
                frontier.Append(leaf);
            }

            if (frontier.Size != manifest.Size || !Convert.ToHexStringLower(frontier.Root()).Equals(manifest.Root, StringComparison.OrdinalIgnoreCase))
            {
                Problems.Add($"datasets: {name}'s {records.Length} exported records do not rebuild its signed root at size {manifest.Size}");
            }

            var byHash = records.Select((r, i) => (r.ContentHash, i)).ToLookup(x => x.ContentHash, x => x.i, StringComparer.OrdinalIgnoreCase);
            foreach (var contribution in acknowledged.DistinctBy(c => c.ContentHash))
            {
                var at = byHash[contribution.ContentHash].ToList();
                if (at.Count == 0)
                {
                    lost++;
                    Problems.Add($"datasets: {name}: acknowledged record {contribution.ContentHash[..12]} (leaf {contribution.Receipt.LeafIndex}) is not in the log");
                }
                else if (at.Count > 1)
                {
                    duplicated++;
                    Problems.Add($"datasets: {name}: record {contribution.ContentHash[..12]} is in the log {at.Count} times");
                }
                else if (at[0] != contribution.Receipt.LeafIndex || !leaves[at[0]].AsSpan().SequenceEqual(contribution.LeafHash))
                {
                    Problems.Add($"datasets: {name}: record {contribution.ContentHash[..12]} sits at leaf {at[0]}, its receipt said {contribution.Receipt.LeafIndex}");
                }
            }

            var observed = history.Heads.Where(h => h.Dataset == name).Append(manifest.TreeHead).DistinctBy(h => (h.Size, h.Root.ToLowerInvariant())).ToList();
            heads += observed.Count;
            foreach (var head in observed.Where(h => !TreeHead.Verify(platform, name, h.Size, h.Timestamp, Convert.FromHexString(h.Root), Convert.FromBase64String(h.Signature))))
            {
                Problems.Add($"datasets: {name}: the head at size {head.Size} is not signed by the platform's key");
            }

            foreach (var fork in observed.GroupBy(h => h.Size).Where(g => g.Count() > 1))
            {
                Problems.Add($"datasets: {name}: {fork.Count()} different roots at size {fork.Key}: the log forked");
            }

            var chain = observed.DistinctBy(h => h.Size).Where(h => h.Size > 0).OrderBy(h => h.Size).ToList();
            var pairs = chain.Zip(chain.Skip(1)).ToList();
            var verified = await Read(pairs, p => $"/v1/datasets/{name}/proofs/consistency?first={p.First.Size}&second={p.Second.Size}", (MerkleProofView v) => v);
            foreach (var ((first, second), proof) in pairs.Zip(verified))
            {
                proofs++;
                if (proof is null || !MerkleProof.VerifyConsistency(first.Size, second.Size, [.. proof.Hashes.Select(Convert.FromHexString)],
                        Convert.FromHexString(first.Root), Convert.FromHexString(second.Root)))
                {
                    Problems.Add($"datasets: {name}: the head at size {first.Size} is not proved consistent with the one at {second.Size}");
                }
            }
        }

        return (lost, duplicated, heads, proofs);
    }

    /// <summary>The ledger's hash chain replayed through the verifier.</summary>
    public bool Ledger(List<ChainedPostingView> chain)
    {
        var report = LedgerApi.Verify(chain);
        Problems.AddRange(report.Problems.Select(p => $"ledger: {p}"));
        return report.Valid;
    }

    /// <summary>The whole chain, read through a live silo (every one is up by now).</summary>
    public async Task<List<ChainedPostingView>> Chain()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await new LedgerApi(cluster.Pick(random)).Chain();
            }
            catch (HttpRequestException) when (attempt < 10)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt));
            }
        }
    }

    private async Task<List<JobSummary>> List(string key)
    {
        var all = new List<JobSummary>();
        while (true)
        {
            var after = all.Count == 0 ? "" : $"&after={all[^1].JobId}";
            var page = await Get<JobSummary[]>($"/v1/jobs?limit={JobQuery.MaxLimit}{after}", key);
            if (page is null)
            {
                Problems.Add($"jobs: tenant {Tenant(key)}'s listing could not be read");
                return all;
            }

            all.AddRange(page);
            if (page.Length < JobQuery.MaxLimit)
            {
                return all;
            }
        }
    }

    private async Task<SnapshotManifest?> Snapshot(string name)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            using var response = await cluster.Send(() => new HttpRequestMessage(HttpMethod.Post, $"/v1/datasets/{name}/snapshots").WithKey(Http.OperatorKey), random);
            if (response is { IsSuccessStatusCode: true })
            {
                return await response.Content.ReadFromJsonAsync<SnapshotManifest>(ApiJson.Options);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt));
        }

        return null;
    }

    /// <summary>GETs a path from live silos, a few times over if need be; null when it never answered 200.</summary>
    public async Task<T?> Get<T>(string path, string? key = null)
        where T : class
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            using var response = await cluster.Send(() => new HttpRequestMessage(HttpMethod.Get, path).WithKey(key), random);
            if (response is { IsSuccessStatusCode: true })
            {
                return await response.Content.ReadFromJsonAsync<T>(ApiJson.Options);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt));
        }

        return null;
    }

    private async Task<T?[]> Read<TItem, TView, T>(IReadOnlyList<TItem> items, Func<TItem, string> path, Func<TView, T> select, Func<TItem, string?>? key = null)
        where TView : class
        where T : class
    {
        var results = new T?[items.Count];
        await System.Threading.Tasks.Parallel.ForAsync(0, items.Count, new ParallelOptions { MaxDegreeOfParallelism = Parallel }, async (i, _) =>
            results[i] = await Get<TView>(path(items[i]), key?.Invoke(items[i])) is { } view ? select(view) : null);
        return results;
    }

    private static string Tenant(string key) => key.Split('.')[0];

    /// <summary>The p99 (nearest rank) of the silo faults' recovery times; null when none recovered.</summary>
    public static double? P99(IEnumerable<TimeSpan> times)
    {
        var sorted = times.Select(t => t.TotalSeconds).Order().ToList();
        return sorted.Count == 0 ? null : Math.Round(sorted[(int)Math.Ceiling(0.99 * sorted.Count) - 1], 2);
    }
}
