using System.Globalization;
using System.Threading.RateLimiting;
using DePIN.Grains.Diagnostics;
using Microsoft.Extensions.Options;

namespace DePIN.Silo.Api;

/// <summary>One token bucket: <see cref="Tokens"/> every <see cref="Period"/>, at most <see cref="Burst"/> saved up.</summary>
public sealed class BucketOptions
{
    public int Tokens { get; set; }

    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);

    public int Burst { get; set; }

    /// <summary>Zero tokens turns the limit off.</summary>
    public bool IsOff => Tokens == 0;

    public bool IsValid => Tokens >= 0 && Burst >= Tokens && Period > TimeSpan.Zero;
}

/// <summary>
/// Request rates per caller; configuration section <c>RateLimits</c>. A node's bucket is charged only once its
/// signature verified and a tenant's once its key did, so nobody can spend another caller's allowance by sending
/// requests in its name. Operators are not limited.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Signed requests from one node's agent: telemetry, work and training polls and reports, stake.</summary>
    public BucketOptions Node { get; set; } = new() { Tokens = 100, Burst = 200 };

    /// <summary>Authenticated requests from one tenant's keys.</summary>
    public BucketOptions Tenant { get; set; } = new() { Tokens = 200, Burst = 400 };

    public bool IsValid => Node.IsValid && Tenant.IsValid;
}

/// <summary>Which caller a limit counts: the <c>scope</c> label of <c>depin_rate_limited_total</c>.</summary>
public static class RateLimitScopes
{
    public const string Node = "node";
    public const string Tenant = "tenant";
}

/// <summary>
/// ASP.NET's token-bucket limiters, partitioned by node id and by tenant. A refused request is answered with 429,
/// problem details and <c>Retry-After</c> (whole seconds until a token is due) before it reaches any grain.
/// </summary>
public sealed class RateLimits : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _nodes;
    private readonly PartitionedRateLimiter<string>? _tenants;
    private readonly DePINMetrics _metrics;

    public RateLimits(IOptions<RateLimitOptions> options, DePINMetrics metrics)
    {
        _nodes = Create(options.Value.Node);
        _tenants = Create(options.Value.Tenant);
        _metrics = metrics;
    }

    /// <summary>Null when node <paramref name="nodeId"/> may go on; the 429 to answer otherwise.</summary>
    public IResult? Node(string nodeId, HttpResponse response) => Take(_nodes, nodeId, RateLimitScopes.Node, response);

    /// <summary>Null when tenant <paramref name="tenant"/> may go on; the 429 to answer otherwise.</summary>
    public IResult? Tenant(string tenant, HttpResponse response) => Take(_tenants, tenant, RateLimitScopes.Tenant, response);

    public void Dispose()
    {
        _nodes?.Dispose();
        _tenants?.Dispose();
    }

    private IResult? Take(PartitionedRateLimiter<string>? limiter, string key, string scope, HttpResponse response)
    {
        if (limiter is null)
        {
            return null;
        }

        using var lease = limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            return null;
        }

        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        _metrics.RateLimited(scope);
        return Problems.TooManyRequests(scope, key, seconds);
    }

    private static PartitionedRateLimiter<string>? Create(BucketOptions bucket) =>
        bucket.IsOff
            ? null
            : PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ =>
                new TokenBucketRateLimiterOptions
                {
                    TokenLimit = bucket.Burst,
                    TokensPerPeriod = bucket.Tokens,
                    ReplenishmentPeriod = bucket.Period,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }), StringComparer.Ordinal);
}
