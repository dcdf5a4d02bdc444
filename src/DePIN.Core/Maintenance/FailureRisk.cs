namespace DePIN.Core.Maintenance;

/// <summary>A node's risk of failing within the horizon, where it came from and the evidence that weighed most.</summary>
public readonly record struct RiskAssessment(double Risk, string Source, string Reason);

/// <summary>Anything that turns a node's <see cref="NodeHealth.Features"/> into a failure risk.</summary>
public interface IFailureRisk
{
    RiskAssessment Assess(float[] features);
}

/// <summary>
/// The transparent fallback used until the fleet has enough history to learn from: every piece of evidence is an
/// independent chance of failure, p = 1 − exp(−weight × max(0, feature − allowance)), and the risk is the chance that
/// at least one of them is real, 1 − Π(1 − p). The reason names the evidence that weighed most.
/// </summary>
public sealed class RiskRule : IFailureRisk
{
    public const string Source = "rule";

    private readonly (double Weight, double Allowance)[] _terms;

    public RiskRule()
    {
        _terms = new (double, double)[NodeHealth.FeatureCount];
        var i = 0;
        foreach (var metric in HealthSample.Metrics)
        {
            // A detector alarm on its own is weak evidence; a burst of them, or any on temperature, is not.
            _terms[i++] = (metric == "gpu_temperature" ? 0.35 : 0.12, 0.0);
        }

        _terms[i++] = (0.6, 0.0);   // GPU Xid errors
        _terms[i++] = (0.8, 0.0);   // ECC errors
        _terms[i++] = (0.4, 0.0);   // disk errors
        _terms[i++] = (0.2, 0.0);   // process crashes
        _terms[i++] = (0.1, 0.0);   // other kernel errors
        _terms[i++] = (0.15, 4.0);  // °C hotter than the node's load explains
        // Network trouble that lasts: an hour's average, so a blip of a few minutes barely counts.
        _terms[i++] = (0.0, 0.0);   // packet loss, last minutes
        _terms[i++] = (40.0, 0.01); // packet loss beyond 1 %, over the last hour
        _terms[i++] = (0.0, 0.0);   // latency ratio, last minutes
        _terms[i] = (1.2, 1.3);     // latency beyond 1.3× the node's normal, over the last hour
    }

    public RiskAssessment Assess(float[] features)
    {
        var survive = 1.0;
        var strongest = -1;
        var strongestP = 0.0;
        for (var i = 0; i < _terms.Length; i++)
        {
            var (weight, allowance) = _terms[i];
            var p = 1 - Math.Exp(-weight * Math.Max(0, features[i] - allowance));
            survive *= 1 - p;
            if (p > strongestP)
            {
                (strongest, strongestP) = (i, p);
            }
        }

        var reason = strongest < 0 ? "no evidence" : $"{NodeHealth.FeatureNames[strongest]}={features[strongest]:0.##}";
        return new RiskAssessment(1 - survive, Source, reason);
    }
}

/// <summary>
/// When risk drains a node and when it lets it back: drain at <see cref="DrainAt"/>, return once risk has stayed
/// below <see cref="ReleaseBelow"/> for <see cref="SettleFor"/>, so a node does not flap around one threshold.
/// </summary>
public sealed record DrainPolicy(double DrainAt = 0.9, double ReleaseBelow = 0.3, TimeSpan SettleFor = default)
{
    public static DrainPolicy Default { get; } = new(SettleFor: TimeSpan.FromMinutes(30));

    /// <summary>
    /// Whether the node should be draining, given whether it is, its risk, how long risk has been below the release
    /// line, and an operator's decision (<paramref name="held"/>: true to hold it drained, false to keep it in service,
    /// null to let risk decide).
    /// </summary>
    public bool ShouldDrain(bool draining, double risk, TimeSpan lowFor, bool? held = null) => held switch
    {
        { } decided => decided,
        _ when !draining => risk >= DrainAt,
        _ => risk >= ReleaseBelow || lowFor < SettleFor,
    };
}

/// <summary>
/// One node's draining decisions under a <see cref="DrainPolicy"/>: it keeps the time risk first fell below the
/// release line, which the policy's settling time is measured from.
/// </summary>
public sealed class DrainTracker(DrainPolicy policy)
{
    private DateTimeOffset? _lowSince;

    /// <summary>Whether the node should be draining after an assessment of <paramref name="risk"/> at <paramref name="now"/>.</summary>
    public bool Decide(bool draining, double risk, DateTimeOffset now, bool? held = null)
    {
        _lowSince = risk < policy.ReleaseBelow ? _lowSince ?? now : null;
        return policy.ShouldDrain(draining, risk, now - (_lowSince ?? now), held);
    }

    /// <summary>Forgets the low-risk clock (the node failed and starts afresh).</summary>
    public void Reset() => _lowSince = null;
}
