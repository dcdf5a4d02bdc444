using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Jobs;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>Jobs and tenancy over HTTP against a real silo on PostgreSQL.</summary>
public sealed class JobApiTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>
{
    private readonly JobApi _jobs = new(cluster.Http);

    private HttpClient Api => cluster.Http;

    [Fact]
    public async Task Only_an_operator_creates_tenants_and_a_key_is_shown_once()
    {
        var name = Unique("tenant");

        using var anonymous = await Send(HttpMethod.Post, "/v1/tenants", null, new NewTenant(name));
        using var wrongKey = await Send(HttpMethod.Post, "/v1/tenants", "nobody.secret", new NewTenant(name));
        using var created = await Send(HttpMethod.Post, "/v1/tenants", Http.OperatorKey, new NewTenant(name));
        var tenant = await created.Content.ReadFromJsonAsync<TenantCreated>(ApiJson.Options);
        using var again = await Send(HttpMethod.Post, "/v1/tenants", Http.OperatorKey, new NewTenant(name));
        using var byTenant = await Send(HttpMethod.Post, "/v1/tenants", tenant!.ApiKey, new NewTenant(Unique("other")));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        Assert.Equal("urn:depin:problem:unauthenticated", await Http.ProblemType(wrongKey));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith(name + ".", tenant.ApiKey, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byTenant.StatusCode);
    }

    [Fact]
    public async Task Submitting_is_idempotent_per_id_and_a_changed_spec_under_the_same_id_is_a_conflict()
    {
        var key = await NewTenant();

        using var created = await Send(HttpMethod.Put, "/v1/jobs/sweep-1", key, Spec());
        using var again = await Send(HttpMethod.Put, "/v1/jobs/sweep-1", key, Spec());
        using var changed = await Send(HttpMethod.Put, "/v1/jobs/sweep-1", key, Spec(replicas: 7));
        using var fetched = await Send(HttpMethod.Get, "/v1/jobs/sweep-1", key);
        var job = await fetched.Content.ReadFromJsonAsync<JobDetails>(ApiJson.Options);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/v1/jobs/sweep-1", created.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, changed.StatusCode);
        Assert.Equal("urn:depin:problem:job-conflict", await Http.ProblemType(changed));
        Assert.Equal((JobStatus.Queued, 2), (job!.Status, job.Spec.Replicas));
    }

    [Fact]
    public async Task Another_tenants_job_answers_exactly_as_an_unknown_one_and_cannot_be_cancelled()
    {
        var owner = await NewTenant();
        var other = await NewTenant();
        (await Send(HttpMethod.Put, "/v1/jobs/private", owner, Spec())).EnsureSuccessStatusCode();

        using var theirs = await Send(HttpMethod.Get, "/v1/jobs/private", other);
        using var unknown = await Send(HttpMethod.Get, "/v1/jobs/no-such-job", other);
        using var cancel = await Send(HttpMethod.Post, "/v1/jobs/private/cancel", other, new CancelRequest("mine now"));
        using var list = await Send(HttpMethod.Get, "/v1/jobs", other);
        using var still = await Send(HttpMethod.Get, "/v1/jobs/private", owner);

        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(await Http.ProblemType(unknown), await Http.ProblemType(theirs));
        Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        Assert.Empty((await list.Content.ReadFromJsonAsync<JobSummary[]>(ApiJson.Options))!);
        Assert.Equal(JobStatus.Queued, (await still.Content.ReadFromJsonAsync<JobDetails>(ApiJson.Options))!.Status);
    }

    [Fact]
    public async Task A_tenant_lists_and_cancels_its_jobs_and_an_operator_sees_them_by_tenant()
    {
        var name = Unique("lister");
        var key = await NewTenant(name);
        foreach (var id in new[] { "j2", "j1", "j3" })
        {
            (await Send(HttpMethod.Put, $"/v1/jobs/{id}", key, Spec())).EnsureSuccessStatusCode();
        }

        using var cancelled = await Send(HttpMethod.Post, "/v1/jobs/j2/cancel", key, new CancelRequest("superseded"));
        var queued = await Get<JobSummary[]>("/v1/jobs?state=queued", key);
        var all = await Get<JobSummary[]>("/v1/jobs", key);
        var byOperator = await Get<JobSummary[]>($"/v1/jobs?tenant={name}&state=cancelled", Http.OperatorKey);
        using var badState = await Send(HttpMethod.Get, "/v1/jobs?state=sleeping", key);
        using var unknownParameter = await Send(HttpMethod.Get, "/v1/jobs?status=queued", key); // the filter is state

        Assert.Equal((JobStatus.Cancelled, "superseded"), await Status(cancelled));
        Assert.Equal(["j1", "j3"], queued.Select(j => j.JobId));
        Assert.Equal(["j1", "j2", "j3"], all.Select(j => j.JobId));
        Assert.Equal(["j2"], byOperator.Select(j => j.JobId));
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        Assert.Equal((HttpStatusCode.BadRequest, "status"), (unknownParameter.StatusCode, string.Join(",", await JobApi.Fields(unknownParameter))));
        Assert.True(await cluster.Metric("depin_jobs", ("state", "queued")) >= 2);
    }

    [Fact]
    public async Task Invalid_specs_are_refused_with_the_field_that_failed_and_change_nothing()
    {
        var key = await NewTenant();
        var zero = Spec() with { Resources = new ReplicaResources(0, 0, 1, 0) };
        var unknownRegion = Spec() with { Constraints = JobConstraints.None with { Regions = ["mars-north"] } };
        var oversize = Encoding.UTF8.GetBytes($$"""{"kind":"batch","padding":"{{new string('x', 20_000)}}"}""");

        using var zeroResources = await Send(HttpMethod.Put, "/v1/jobs/bad-1", key, zero);
        using var region = await Send(HttpMethod.Put, "/v1/jobs/bad-2", key, unknownRegion);
        using var tooBig = await SendRaw(HttpMethod.Put, "/v1/jobs/bad-3", key, oversize);
        using var malformed = await SendRaw(HttpMethod.Put, "/v1/jobs/bad-4", key, "{\"kind\":"u8.ToArray());
        using var missing = await SendRaw(HttpMethod.Put, "/v1/jobs/bad-5", key, "{\"kind\":\"batch\"}"u8.ToArray());
        using var badId = await Send(HttpMethod.Put, "/v1/jobs/-dash-first", key, Spec());

        Assert.Equal(HttpStatusCode.BadRequest, zeroResources.StatusCode);
        Assert.Equal(["resources.cpuCores", "resources.memoryBytes"], await Fields(zeroResources));
        Assert.Equal(["constraints.regions[0]"], await Fields(region));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("resources", await Fields(missing));
        Assert.Equal(["id"], await Fields(badId));
        Assert.Empty(await Get<JobSummary[]>("/v1/jobs", key));
    }

    [Fact]
    public async Task Watching_a_job_streams_its_status_changes_as_server_sent_events()
    {
        var key = await NewTenant();
        (await Send(HttpMethod.Put, "/v1/jobs/watched", key, Spec())).EnsureSuccessStatusCode();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/jobs/watched/events").WithKey(key);
        using var response = await Api.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var first = await NextEvent(reader);
        (await Send(HttpMethod.Post, "/v1/jobs/watched/cancel", key, new CancelRequest("done watching"))).EnsureSuccessStatusCode();
        var next = await NextEvent(reader);
        while (next.Status != JobStatus.Cancelled)
        {
            next = await NextEvent(reader);
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(("watched", JobStatus.Queued), (first.JobId, first.Status));
        Assert.Equal((JobStatus.Queued, "done watching"), (next.Previous, next.Reason));
    }

    private static JobSpec Spec(int replicas = 2) => TestJob.Spec(replicas);

    private static string Unique(string prefix) => JobApi.Unique(prefix);

    private static Task<string[]> Fields(HttpResponseMessage response) => JobApi.Fields(response);

    private Task<string> NewTenant(string? name = null) => _jobs.NewTenant(name);

    private Task<HttpResponseMessage> Send<T>(HttpMethod method, string path, string? key, T body) => _jobs.Send(method, path, key, body);

    private Task<HttpResponseMessage> Send(HttpMethod method, string path, string? key) => _jobs.Send(method, path, key);

    private Task<HttpResponseMessage> SendRaw(HttpMethod method, string path, string? key, byte[] body) => _jobs.SendRaw(method, path, key, body);

    private Task<T> Get<T>(string path, string key) => _jobs.Get<T>(path, key);

    private static async Task<(JobStatus, string?)> Status(HttpResponseMessage response)
    {
        var job = await response.Content.ReadFromJsonAsync<JobDetails>(ApiJson.Options);
        return (job!.Status, job.Reason);
    }

    private static async Task<JobEvent> NextEvent(StreamReader reader)
    {
        while (true)
        {
            var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20))
                ?? throw new EndOfStreamException("The event stream ended.");
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return JsonSerializer.Deserialize<JobEvent>(line["data: ".Length..], ApiJson.Options)!;
            }
        }
    }
}
