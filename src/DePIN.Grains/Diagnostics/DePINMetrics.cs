using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;

namespace DePIN.Grains.Diagnostics;

/// <summary>Why a telemetry batch was not taken: the <c>reason</c> label of <c>depin_telemetry_rejected_total</c>.</summary>
public static class RejectReasons
{
    public const string BadSignature = "bad_signature";
    public const string Oversize = "oversize";
    public const string Malformed = "malformed";
    public const string UnknownNode = "unknown_node";
    public const string Replayed = "replayed";
    public const string Stale = "stale";
    public const string Overloaded = "overloaded";
    public const string RateLimited = "rate_limited";

    public static readonly string[] All = [BadSignature, Oversize, Malformed, UnknownNode, Replayed, Stale, Overloaded, RateLimited];
}

/// <summary>
/// The <c>DePIN</c> meter. Prometheus names, as the OpenTelemetry exporter writes them:
/// <c>depin_nodes{status}</c>, <c>depin_telemetry_batches_total</c>, <c>depin_telemetry_rejected_total{reason}</c>,
/// <c>depin_telemetry_lag_seconds</c>, <c>depin_jobs{state}</c>, <c>depin_placements_total{policy,outcome}</c>,
/// <c>depin_placement_latency_seconds</c>, <c>depin_job_interruptions_total{reason}</c>, <c>depin_nodes_by_risk{band}</c>
/// (the nodes whose grains this silo hosts; a node's own risk is served by the API, not as a series), <c>depin_anomalies_total{metric}</c>, <c>depin_drains_total{reason}</c>,
/// <c>depin_ledger_postings_total{kind}</c>, <c>depin_slashes_total{reason}</c>, <c>depin_rate{region,class}</c>,
/// <c>depin_rate_limited_total{scope}</c>.
/// </summary>
public sealed class DePINMetrics
{
    public const string MeterName = "DePIN";

    private readonly Counter<long> _batches;
    private readonly Counter<long> _rejected;
    private readonly Histogram<double> _lag;
    private readonly Counter<long> _placements;
    private readonly Counter<long> _interruptions;
    private readonly Histogram<double> _placementLatency;
    private readonly CountsByStatus<NodeStatus> _nodes = new("status");
    private readonly CountsByStatus<JobStatus> _jobs = new("state");
    private readonly Counter<long> _contributions;
    private readonly ConcurrentDictionary<string, long> _datasetRecords = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _quarantined = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> _risk = new(StringComparer.Ordinal);
    private readonly Counter<long> _anomalies;
    private readonly Counter<long> _drains;
    private readonly Counter<long> _postings;
    private readonly Counter<long> _slashes;
    private readonly Counter<long> _rateLimited;
    private readonly ConcurrentDictionary<(string Region, string Class), double> _rates = new();

    public DePINMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _batches = meter.CreateCounter<long>("depin.telemetry.batches", description: "Telemetry batches accepted by node grains.");
        _rejected = meter.CreateCounter<long>("depin.telemetry.rejected", description: "Telemetry batches rejected, by reason.");
        _lag = meter.CreateHistogram(
            "depin.telemetry.lag", unit: "s", description: "Time from a telemetry sample to its node grain.",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
            });
        _placements = meter.CreateCounter<long>("depin.placements", description: "Placement decisions, by policy and outcome (placed, waiting).");
        _interruptions = meter.CreateCounter<long>("depin.job.interruptions", description: "Placed or running jobs that lost their nodes, by reason.");
        _placementLatency = meter.CreateHistogram(
            "depin.placement.latency", unit: "s", description: "Time from a job joining the scheduler's queue to its placement.",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
            });
        meter.CreateObservableGauge("depin.nodes", _nodes.Observe,
            description: "Nodes by status, as kept by the directory shards this silo hosts; sum over silos for the fleet.");
        _anomalies = meter.CreateCounter<long>("depin.anomalies", description: "Anomaly detector alarms on node telemetry, by metric.");
        _drains = meter.CreateCounter<long>("depin.drains", description: "Nodes drained, by reason (risk or operator).");
        meter.CreateObservableGauge("depin.nodes.by_risk", ObserveRisk,
            description: "Nodes whose grains this silo hosts, by their last assessed risk of failing within the horizon: low (below 0.3), elevated (0.3 to 0.9), high (0.9 and above).");
        _contributions = meter.CreateCounter<long>("depin.dataset.contributions",
            description: "Dataset contributions by outcome: accepted, duplicate (a retry answered with its first receipt) or the reason for refusing it.");
        meter.CreateObservableGauge("depin.dataset.records", () => _datasetRecords.Select(d => new Measurement<long>(d.Value, new KeyValuePair<string, object?>("dataset", d.Key))),
            description: "Leaves in each dataset's log hosted on this silo.");
        meter.CreateObservableGauge("depin.contributors.quarantined", () => _quarantined.Sum(q => q.Value),
            description: "Contributors quarantined from the datasets hosted on this silo (a node counts once per dataset).");
        _postings = meter.CreateCounter<long>("depin.ledger.postings", description: "Ledger postings appended by this silo's writer, by kind.");
        _slashes = meter.CreateCounter<long>("depin.slashes", description: "Stakes slashed, by reason (disagreed, abandoned).");
        _rateLimited = meter.CreateCounter<long>("depin.rate_limited", description: "Requests refused with 429, by the caller's scope (node, tenant).");
        meter.CreateObservableGauge("depin.rate", () => _rates.Select(r => new Measurement<double>(r.Value,
                new KeyValuePair<string, object?>("region", r.Key.Region), new KeyValuePair<string, object?>("class", r.Key.Class))),
            description: "The lease rate per unit-hour (a GPU for class gpu, a core for class cpu) in each region, as the market grain on this silo set it.");
        meter.CreateObservableGauge("depin.jobs", _jobs.Observe,
            description: "Jobs by state, as kept by the tenant job indexes this silo hosts; sum over silos for the platform.");

        // Every counter is exported from the start, at 0 for each label value known in advance: a series that appears
        // only with its first event leaves a board's panel empty and an alert on its rate blind (Prometheus' advice).
        _batches.Add(0);
        Zero(_rejected, "reason", RejectReasons.All);
        Zero(_interruptions, "reason", "node_offline", "draining", "quarantined", "preempted", "agent_stopped", "replica_failed", "not_started", "no_majority");
        Zero(_anomalies, "metric", DePIN.Core.Maintenance.HealthSample.Metrics);
        Zero(_drains, "reason", "risk", "operator");
        Zero(_contributions, "outcome", "accepted", "duplicate");
        Zero(_slashes, "reason", "disagreed", "abandoned");
        Zero(_rateLimited, "scope", "node", "tenant");
    }

    private static void Zero(Counter<long> counter, string label, params string[] values)
    {
        foreach (var value in values)
        {
            counter.Add(0, new KeyValuePair<string, object?>(label, value));
        }
    }

    public void BatchAccepted() => _batches.Add(1);

    public void Posted(string kind) => _postings.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Slashed(string reason) => _slashes.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>The market grain hosted here reports the rates it set.</summary>
    public void ReportRate(string region, string resourceClass, double rate) => _rates[(region, resourceClass)] = rate;

    /// <summary>The market grain left this silo: another reports the rates now.</summary>
    public void ForgetRates() => _rates.Clear();

    public void Anomaly(string metric) => _anomalies.Add(1, new KeyValuePair<string, object?>("metric", metric));

    public void Drained(string reason) => _drains.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void ReportRisk(string nodeId, double risk) => _risk[nodeId] = risk;

    private IEnumerable<Measurement<int>> ObserveRisk()
    {
        int low = 0, elevated = 0, high = 0;
        foreach (var risk in _risk.Values)
        {
            _ = risk < 0.3 ? low++ : risk < 0.9 ? elevated++ : high++;
        }

        yield return new Measurement<int>(low, new KeyValuePair<string, object?>("band", "low"));
        yield return new Measurement<int>(elevated, new KeyValuePair<string, object?>("band", "elevated"));
        yield return new Measurement<int>(high, new KeyValuePair<string, object?>("band", "high"));
    }

    /// <summary>The node's grain left this silo: another reports it now.</summary>
    public void ForgetRisk(string nodeId) => _risk.TryRemove(nodeId, out _);

    public void BatchRejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void RecordLag(TimeSpan lag) => _lag.Record(Math.Max(0, lag.TotalSeconds));

    public void PlacementDecided(string policy, string outcome, int count = 1) =>
        _placements.Add(count, new KeyValuePair<string, object?>("policy", policy), new KeyValuePair<string, object?>("outcome", outcome));

    public void JobInterrupted(string reason) => _interruptions.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Placed(TimeSpan queued) => _placementLatency.Record(Math.Max(0, queued.TotalSeconds));

    public void ContributionAccepted(bool duplicate) =>
        _contributions.Add(1, new KeyValuePair<string, object?>("outcome", duplicate ? "duplicate" : "accepted"));

    public void RateLimited(string scope) => _rateLimited.Add(1, new KeyValuePair<string, object?>("scope", scope));

    public void ContributionRejected(string reason) => _contributions.Add(1, new KeyValuePair<string, object?>("outcome", reason));

    /// <summary>A dataset hosted here reports its log's size.</summary>
    public void ReportDatasetRecords(string dataset, long size) => _datasetRecords[dataset] = size;

    /// <summary>A dataset hosted here reports how many of its contributors are quarantined.</summary>
    public void ReportQuarantined(string dataset, int count) => _quarantined[dataset] = count;

    /// <summary>A dataset left this silo: it no longer counts in either gauge.</summary>
    public void ForgetDataset(string dataset)
    {
        _datasetRecords.TryRemove(dataset, out _);
        _quarantined.TryRemove(dataset, out _);
    }

    /// <summary>A directory shard hosted here reports its counts per status (indexed by <see cref="NodeStatus"/>).</summary>
    public void ReportNodeCounts(string shard, long[] countsByStatus) => _nodes.Report(shard, countsByStatus);

    /// <summary>A directory shard left this silo.</summary>
    public void ForgetNodeCounts(string shard) => _nodes.Forget(shard);

    /// <summary>A tenant's job index hosted here reports its counts per state (indexed by <see cref="JobStatus"/>).</summary>
    public void ReportJobCounts(string tenant, long[] countsByStatus) => _jobs.Report(tenant, countsByStatus);

    /// <summary>A tenant's job index left this silo.</summary>
    public void ForgetJobCounts(string tenant) => _jobs.Forget(tenant);

    /// <summary>
    /// A gauge by status whose parts are owned by grains: each reports its own counts, the silo's reading is the sum.
    /// </summary>
    private sealed class CountsByStatus<TStatus>(string label)
        where TStatus : struct, Enum
    {
        private readonly KeyValuePair<string, object?>[] _tags =
            [.. Enum.GetValues<TStatus>().Select(s => new KeyValuePair<string, object?>(label, s.ToString().ToLowerInvariant()))];

        private readonly ConcurrentDictionary<string, long[]> _parts = new(StringComparer.Ordinal);

        public void Report(string part, long[] counts) => _parts[part] = counts;

        public void Forget(string part) => _parts.TryRemove(part, out _);

        public IEnumerable<Measurement<long>> Observe()
        {
            var totals = new long[_tags.Length];
            foreach (var counts in _parts.Values)
            {
                for (var i = 0; i < totals.Length; i++)
                {
                    totals[i] += counts[i];
                }
            }

            for (var i = 0; i < totals.Length; i++)
            {
                yield return new Measurement<long>(totals[i], _tags[i]);
            }
        }
    }
}
