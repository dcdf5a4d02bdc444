using System.Net;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>A silo whose nodes and tenants may each make three requests, and earn one more an hour.</summary>
public sealed class ThrottledSilo(PostgresServer postgres) : SiloOnPostgres(postgres)
{
    public const int Burst = 3;

    protected override Dictionary<string, string> Configure(Dictionary<string, string> settings) => new(settings)
    {
        ["RateLimits:Node:Tokens"] = "1",
        ["RateLimits:Node:Period"] = "01:00:00",
        ["RateLimits:Node:Burst"] = $"{Burst}",
        ["RateLimits:Tenant:Tokens"] = "1",
        ["RateLimits:Tenant:Period"] = "01:00:00",
        ["RateLimits:Tenant:Burst"] = $"{Burst}",
    };
}

/// <summary>
/// Per-node and per-tenant request rates on a real silo: past its bucket a caller gets 429 with problem details and a
/// Retry-After, the refused request changes nothing, other callers go on, and only a verified caller spends its own
/// allowance.
/// </summary>
public sealed class RateLimitTests(ThrottledSilo cluster) : IClassFixture<ThrottledSilo>
{
    private HttpClient Http => cluster.Http;

    [Fact]
    public async Task A_node_past_its_rate_gets_429_with_Retry_After_its_batch_is_not_taken_and_forged_requests_do_not_spend_its_allowance()
    {
        using var node = TestNode.Create();
        using var other = TestNode.Create();
        using var forger = TestNode.Create();
        var now = DateTimeOffset.UtcNow;
        (await node.Register(Http, now)).EnsureSuccessStatusCode();
        (await other.Register(Http, now)).EnsureSuccessStatusCode();

        // Requests in the node's name that do not verify are refused as such and cost the node nothing.
        for (var i = 0; i < 2 * ThrottledSilo.Burst; i++)
        {
            using var forged = await node.Post(Http, $"/v1/nodes/{node.Id}/telemetry", TestNode.Json(node.Batch(100 + i, now)), by: forger.Signer);
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        for (var sequence = 1; sequence <= ThrottledSilo.Burst; sequence++)
        {
            using var accepted = await node.Send(Http, node.Batch(sequence, now.AddSeconds(sequence)));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        using var limited = await node.Send(Http, node.Batch(ThrottledSilo.Burst + 1, now.AddSeconds(ThrottledSilo.Burst + 1)));
        await AssertRateLimited(limited);

        // Another node has its own bucket; the limited node's grain took its three batches and never saw the fourth.
        using var unaffected = await other.Send(Http, other.Batch(1, now));
        Assert.Equal(HttpStatusCode.Accepted, unaffected.StatusCode);
        await cluster.NodeWhen(other.Id, n => n.LastSequence == 1, "the other node's batch to be applied");
        var details = await cluster.NodeWhen(node.Id, n => n.LastSequence >= ThrottledSilo.Burst, "the node's three batches to be applied");
        Assert.Equal(ThrottledSilo.Burst, details.LastSequence);
        Assert.Equal(ThrottledSilo.Burst, details.Counters.Accepted);

        Assert.True(await cluster.Metric("depin_rate_limited_total", ("scope", "node")) >= 1);
        Assert.True(await cluster.Metric("depin_telemetry_rejected_total", ("reason", "rate_limited")) >= 1);
    }

    [Fact]
    public async Task A_tenant_past_its_rate_gets_429_its_job_is_not_submitted_and_other_tenants_and_operators_go_on()
    {
        var jobs = new JobApi(Http);
        var name = JobApi.Unique("t");
        var tenant = await jobs.NewTenant(name);
        var otherTenant = await jobs.NewTenant();
        var refusedJob = JobApi.Unique("limited");

        for (var i = 0; i < ThrottledSilo.Burst; i++)
        {
            using var listed = await jobs.Send(HttpMethod.Get, "/v1/jobs", tenant);
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        }

        using var limited = await jobs.Send(HttpMethod.Put, $"/v1/jobs/{refusedJob}", tenant, TestJob.Spec());
        await AssertRateLimited(limited);

        // A wrong key in the tenant's name is refused as unauthenticated, not counted against it or anyone.
        using var wrongKey = await jobs.Send(HttpMethod.Get, "/v1/jobs", tenant[..^1] + (tenant[^1] == 'A' ? "B" : "A"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);

        using var other = await jobs.Send(HttpMethod.Get, "/v1/jobs", otherTenant);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        for (var i = 0; i < 2 * ThrottledSilo.Burst; i++)
        {
            using var asOperator = await jobs.Send(HttpMethod.Get, $"/v1/jobs/{refusedJob}?tenant={name}", DePIN.Testing.Http.OperatorKey);
            Assert.Equal(HttpStatusCode.NotFound, asOperator.StatusCode); // the refused submission created nothing
        }

        Assert.True(await cluster.Metric("depin_rate_limited_total", ("scope", "tenant")) >= 1);
    }

    private static async Task AssertRateLimited(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("urn:depin:problem:rate-limited", await DePIN.Testing.Http.ProblemType(response));
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
    }
}
