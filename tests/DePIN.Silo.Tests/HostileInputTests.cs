using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Http;
using DePIN.Abstractions.Inference;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.Abstractions.Training;
using DePIN.Core.Datasets;
using DePIN.Core.Economy;
using DePIN.Core.Identity;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>A silo whose nodes stay online for the length of a long test without reporting (liveness in minutes).</summary>
public sealed class QuietSilo(PostgresServer postgres) : SiloOnPostgres(postgres)
{
    protected override Dictionary<string, string> Configure(Dictionary<string, string> settings) =>
        new(settings) { ["Nodes:TelemetryInterval"] = "00:01:00" };
}

/// <summary>
/// Hostile input on every route the silo's OpenAPI document lists, seeded: random bytes, truncated and wrongly typed
/// JSON, numbers no field can hold, nesting past any parser's depth, bodies past every size limit, the wrong content
/// type, no body, garbage and oversize credentials, signatures by the wrong key or of other bytes, unknown and
/// ill-formed path and query values, and requests the platform already took, replayed. Every answer must be below
/// 500, every 4xx must be problem details, every write made of a broken body must be refused, and nothing the
/// world holds may change.
/// </summary>
public sealed class HostileInputTests(QuietSilo cluster) : IClassFixture<QuietSilo>
{
    private const int Seed = 17;
    private const int CasesPerRoute = 60;

    // The API's JSON shape (camelCase, enums as camelCase strings) for the test's own anonymous objects too.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private readonly JobApi _jobs = new(cluster.Http);

    [Fact]
    public async Task Every_route_refuses_malformed_oversize_wrongly_typed_replayed_and_wrongly_signed_requests_with_problem_details_and_nothing_changes()
    {
        var world = await World.Build(cluster, _jobs);
        var before = await world.Snapshot();
        var routes = await Routes();
        var random = new Random(Seed);
        var failures = new List<(string Group, string Example)>();
        var cases = 0;

        foreach (var (method, template, takes) in routes)
        {
            for (var i = 0; i < CasesPerRoute; i++)
            {
                var attack = world.Attack(random, method, template, takes);
                cases++;
                using var request = attack.Request();
                HttpResponseMessage response;
                try
                {
                    response = await cluster.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                }
                catch (HttpRequestException e) when (attack.Kind == "oversize")
                {
                    // The server answered (413) and closed the connection before taking the rest: refused unread.
                    _ = e;
                    continue;
                }

                using var answered = response;
                var status = (int)response.StatusCode;
                var body = response.Content.Headers.ContentType?.MediaType == "text/event-stream" ? "" : await response.Content.ReadAsStringAsync();
                var sent = request.Content is null ? "" : Encoding.UTF8.GetString(await request.Content.ReadAsByteArrayAsync()) is var text && text.Length < 700 ? text : Shorten(text);
                var said = $"{method} {Shorten(request.RequestUri!.PathAndQuery)} ({attack.Kind}) {sent} answered {status}: {Shorten(body)}";
                var fault = status >= 500 ? "a server error"
                    : status >= 400 && !IsProblem(response, body) ? "not problem details"
                    : status < 400 && attack.MustBeRefused ? "a broken write taken"
                    : null;
                if (fault is not null)
                {
                    failures.Add(($"{method} {template} {attack.Kind} {status}: {fault}", said));
                }
            }
        }

        var after = await world.Snapshot();
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} cases:\n" + string.Join('\n',
            failures.GroupBy(f => f.Group).Select(g => $"{g.Count()} × {g.Key}\n    e.g. {g.First().Example}")));
        Assert.True(cases >= 2000, $"only {cases} cases");
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task A_request_target_holding_a_NUL_is_refused_by_the_HTTP_server_before_any_route()
    {
        using var response = await cluster.Http.GetAsync("/v1/nodes/a%00b");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode); // Kestrel's own refusal: no endpoint ran
    }

    /// <summary>Every route and method the OpenAPI document lists, and whether it takes a request body.</summary>
    private async Task<List<(HttpMethod Method, string Template, BodyKind Body)>> Routes()
    {
        using var document = JsonDocument.Parse(await cluster.Http.GetStringAsync("/openapi/v1.json"));
        static BodyKind BodyOf(JsonElement operation) => !operation.TryGetProperty("requestBody", out var body) ? BodyKind.None
            : body.TryGetProperty("required", out var required) && required.GetBoolean() ? BodyKind.Required : BodyKind.Optional;
        return [.. document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => (new HttpMethod(op.Name.ToUpperInvariant()), path.Name, BodyOf(op.Value))))
            .OrderBy(r => r.Item2, StringComparer.Ordinal).ThenBy(r => r.Item1.Method, StringComparer.Ordinal)];
    }

    private enum BodyKind { None, Optional, Required }

    private static bool IsProblem(HttpResponseMessage response, string body)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return false;
        }

        try
        {
            var problem = JsonNode.Parse(body);
            return problem?["type"] is not null && problem["status"]?.GetValue<int>() == (int)response.StatusCode;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";

    /// <summary>One request to send: how it was made, and whether a well-behaved API must refuse it.</summary>
    private sealed record Attack(string Kind, bool MustBeRefused, Func<HttpRequestMessage> Request);

    /// <summary>What the attacks aim at: a registered node with a telemetry batch applied, a funded tenant with a
    /// cancelled job, a dataset, and the requests that made them (to replay).</summary>
    private sealed class World
    {
        private readonly Dictionary<string, (HttpMethod Method, string Path, byte[] Body, bool Signed)> _taken = [];
        private HttpClient _http = null!;
        private TestNode _node = null!;
        private NodeSigner _stranger = null!;
        private string _tenantKey = "";
        private string _tenant = "";
        private string _job = "";
        private string _dataset = "";

        public static async Task<World> Build(SiloOnPostgres cluster, JobApi jobs)
        {
            var world = new World { _http = cluster.Http, _node = TestNode.Create(), _stranger = NodeSigner.Create() };
            var node = world._node;
            var registration = TestNode.Json(node.Registration(DateTimeOffset.UtcNow));
            (await node.Post(cluster.Http, "/v1/nodes", registration)).EnsureSuccessStatusCode();
            var batch = TestNode.Json(node.Batch(1, DateTimeOffset.UtcNow));
            (await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/telemetry", batch)).EnsureSuccessStatusCode();
            await cluster.NodeWhen(node.Id, n => n.LastSequence == 1, "the batch applied");
            world._taken["/v1/nodes"] = (HttpMethod.Post, "/v1/nodes", registration, true);
            world._taken["/v1/nodes/{id}/telemetry"] = (HttpMethod.Post, $"/v1/nodes/{node.Id}/telemetry", batch, true);
            var relayed = world.Relayed(2, DateTimeOffset.UtcNow);
            (await cluster.Http.PostAsync(RelayedTelemetry.Path, new ByteArrayContent(relayed) { Headers = { ContentType = new("application/json") } })).EnsureSuccessStatusCode();
            await cluster.NodeWhen(node.Id, n => n.LastSequence == 2, "the relayed batch applied");
            world._taken[RelayedTelemetry.Path] = (HttpMethod.Post, RelayedTelemetry.Path, relayed, false);

            world._tenantKey = await jobs.NewTenant();
            world._tenant = world._tenantKey.Split('.')[0];
            world._job = JobApi.Unique("target");
            var spec = JsonSerializer.SerializeToUtf8Bytes(TestJob.Spec(replicas: 1, cpuCores: 1), ApiJson.Options);
            (await jobs.SendRaw(HttpMethod.Put, $"/v1/jobs/{world._job}", world._tenantKey, spec)).EnsureSuccessStatusCode();
            (await jobs.Send(HttpMethod.Post, $"/v1/jobs/{world._job}/cancel", world._tenantKey)).EnsureSuccessStatusCode();
            await Wait.Until(() => cluster.Http.Find<JobDetails>($"/v1/jobs/{world._job}", world._tenantKey), j => j?.Status == JobStatus.Cancelled, "the job cancelled");
            world._taken["/v1/jobs/{id}"] = (HttpMethod.Put, $"/v1/jobs/{world._job}", spec, false);

            world._dataset = JobApi.Unique("target").ToLowerInvariant();
            var definition = await File.ReadAllBytesAsync(System.IO.Path.Combine(Repository.Root, "data", "weather", "dataset.json"));
            (await jobs.SendRaw(HttpMethod.Put, $"/v1/datasets/{world._dataset}", Http.OperatorKey, definition)).EnsureSuccessStatusCode();
            world._taken["/v1/datasets/{name}"] = (HttpMethod.Put, $"/v1/datasets/{world._dataset}", definition, false);

            var posting = JsonSerializer.SerializeToUtf8Bytes(LedgerApi.Deposit(AccountId.Tenant(world._tenant), 1, JobApi.Unique("replayed")), ApiJson.Options);
            (await jobs.SendRaw(HttpMethod.Post, "/v1/ledger/postings", Http.OperatorKey, posting)).EnsureSuccessStatusCode();
            world._taken["/v1/ledger/postings"] = (HttpMethod.Post, "/v1/ledger/postings", posting, false);
            return world;
        }

        /// <summary>What a user could notice changing: the ledger's head, the node, the job, the dataset, the listings.</summary>
        public async Task<string> Snapshot()
        {
            var node = (await _http.Find<NodeDetails>($"/v1/nodes/{_node.Id}"))!;
            var job = (await _http.Find<JobDetails>($"/v1/jobs/{_job}", _tenantKey))!;
            var jobs = await _http.Find<JobSummary[]>("/v1/jobs?limit=1000", _tenantKey) ?? [];
            var dataset = (await _http.Find<DatasetInfo>($"/v1/datasets/{_dataset}"))!;
            var nodes = await _http.Find<NodeSummary[]>("/v1/nodes?limit=10000") ?? [];
            var head = (await _http.GetFromJsonAsync<LedgerHeadView>("/v1/ledger/head", ApiJson.Options))!;
            return JsonSerializer.Serialize(new
            {
                node = new { node.Status, node.Capabilities, node.LastSequence, node.Counters.Accepted, node.Reputation, node.PublicKey },
                job = new { job.Status, job.Attempts, job.Reason },
                jobs = jobs.Length,
                dataset = dataset.TreeHead,
                nodes = nodes.Select(n => $"{n.NodeId} {n.Status}").ToArray(),
                head,
            }, Json);
        }

        public Attack Attack(Random random, HttpMethod method, string template, BodyKind takes)
        {
            var path = Path(random, template, out var targeted);
            var query = method == HttpMethod.Get ? Query(random) : "";
            var signed = template.StartsWith("/v1/nodes", StringComparison.Ordinal) && method == HttpMethod.Post;
            var key = random.Next(10) switch
            {
                < 6 => template.Contains("ledger", StringComparison.Ordinal) || template.Contains("maintenance", StringComparison.Ordinal)
                       || template.Contains("tenants", StringComparison.Ordinal) || template.Contains("datasets", StringComparison.Ordinal)
                    ? Http.OperatorKey : _tenantKey,
                < 8 => null,
                9 => new string('k', 9000),
                _ => new string([.. Garbage(random, 40).Where(c => c is >= ' ' and <= '~')]) + "x", // what a header can carry
            };

            // Routes that take no body (reads, snapshots, cancelling) are attacked through path, query and headers; what
            // they do with a well-formed path and key is theirs to do.
            if (takes == BodyKind.None)
            {
                var junk = random.Next(3) == 0 ? Encoding.UTF8.GetBytes(Garbage(random, 100)) : null;
                return new("no body expected", false, () => Request(method, path + query, key, junk, "application/json", null));
            }

            // A request the platform already took, sent again as it was: idempotent, so it changes nothing.
            if (random.Next(8) == 0 && _taken.TryGetValue(template, out var taken) && targeted)
            {
                var signature = taken.Signed ? _node.Signer.Sign(taken.Body) : null;
                var replayKey = taken.Path.StartsWith("/v1/datasets", StringComparison.Ordinal) || taken.Path.StartsWith("/v1/ledger", StringComparison.Ordinal)
                    ? Http.OperatorKey : _tenantKey;
                return new("replayed", false, () => Request(taken.Method, taken.Path, replayKey, taken.Body, "application/json", signature));
            }

            var (kind, body, contentType) = Body(random, template);
            byte[]? Signature() => !signed ? null : random.Next(4) switch
            {
                0 => _stranger.Sign(body),
                1 => _node.Signer.Sign([.. body, 0x20]),
                2 => null,
                _ => _node.Signer.Sign(body),
            };
            var sig = Signature();
            // Where the body is optional, sending none is a well-formed request.
            return new(kind, !(kind == "empty" && takes == BodyKind.Optional), () => Request(method, path, key, body, contentType, sig));
        }

        private static HttpRequestMessage Request(HttpMethod method, string path, string? key, byte[]? body, string contentType, byte[]? signature)
        {
            var request = new HttpRequestMessage(method, path).WithKey(key);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }

            if (signature is not null)
            {
                request.Headers.Add(ApiJson.SignatureHeader, Convert.ToBase64String(signature));
            }

            return request;
        }

        /// <summary>The template with each parameter the world's own (then <paramref name="targeted"/>), unknown, or ill-formed.</summary>
        private string Path(Random random, string template, out bool targeted)
        {
            var own = true;
            var path = System.Text.RegularExpressions.Regex.Replace(template, "{([^}]+)}", m =>
            {
                var choice = random.Next(6);
                own &= choice < 3;
                var value = choice switch
                {
                    < 3 => Own(template, m.Groups[1].Value),
                    3 => "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
                    4 => new string('a', 600),
                    _ => Garbage(random, 20),
                };
                return Uri.EscapeDataString(value);
            });
            targeted = own;
            return path;
        }

        private string Own(string template, string parameter) => parameter switch
        {
            "id" when template.StartsWith("/v1/jobs", StringComparison.Ordinal) => _job,
            "id" when template.StartsWith("/v1/accounts", StringComparison.Ordinal) => AccountId.Tenant(_tenant),
            "id" => _node.Id,
            "name" => _dataset,
            "size" => "0",
            "hash" or "contentHash" => new string('0', 64),
            _ => "x",
        };

        private static string Query(Random random) => random.Next(6) switch
        {
            0 => "",
            1 => "?limit=-1&after=zz",
            2 => "?limit=99999999999999999999&state=nope&status=nope&region=%00",
            3 => $"?{Garbage(random, 8)}={Garbage(random, 8)}",
            4 => "?leaf=-5&size=abc&first=9&second=1&format=xml&tenant=..",
            _ => "?after=" + new string('9', 400),
        };

        /// <summary>A broken body: no well-formed request for the route can come out of these.</summary>
        private (string Kind, byte[] Body, string ContentType) Body(Random random, string template)
        {
            var valid = Valid(template);
            switch (random.Next(10))
            {
                case 0:
                    var bytes = new byte[random.Next(0, 2000)];
                    random.NextBytes(bytes);
                    return ("random bytes", bytes, "application/json");
                case 1:
                    return ("truncated", valid[..random.Next(1, valid.Length)], "application/json");
                case 2:
                    return ("wrong type", Retyped(random, valid), "application/json");
                case 3:
                    return ("unholdable number", Encoding.UTF8.GetBytes(Regex.Replace(Encoding.UTF8.GetString(valid), random)), "application/json");
                case 4:
                    var depth = random.Next(70, 5000);
                    return ("deep nesting", Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth)), "application/json");
                case 5:
                    var padded = JsonNode.Parse(valid) is JsonObject o ? o : [];
                    padded["pad"] = new string('x', (2 << 20) + random.Next(1000));
                    return ("oversize", Encoding.UTF8.GetBytes(padded.ToJsonString()), "application/json");
                case 6:
                    return ("wrong content type", valid, random.Next(2) == 0 ? "text/plain" : "application/x-www-form-urlencoded");
                case 7:
                    return ("empty", [], "application/json");
                case 8:
                    return ("not an object", Encoding.UTF8.GetBytes(random.Next(3) switch { 0 => "[]", 1 => "\"text\"", _ => "null" }), "application/json");
                default:
                    return ("invalid utf-8", [(byte)'{', (byte)'"', 0xC3, 0x28, 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}'], "application/json");
            }
        }

        /// <summary>The world's node's batch <paramref name="sequence"/>, signed and relayed.</summary>
        private byte[] Relayed(long sequence, DateTimeOffset at)
        {
            var batch = TestNode.Json(_node.Batch(sequence, at));
            return RelayedTelemetry.Envelope([new SignedBatch(_node.Id, batch, _node.Signer.Sign(batch))]);
        }

        /// <summary>A well-formed body for the route, the starting point of the mutations.</summary>
        private byte[] Valid(string template)
        {
            var now = DateTimeOffset.UtcNow;
            if (template == RelayedTelemetry.Path)
            {
                return Relayed(3, now);
            }

            object body = template switch
            {
                "/v1/nodes" => _node.Registration(now),
                "/v1/nodes/{id}/telemetry" => _node.Batch(2, now),
                "/v1/nodes/{id}/maintenance" => new MaintenanceRequest(MaintenanceMode.Drain),
                "/v1/tenants" => new NewTenant("fuzzed"),
                "/v1/jobs/{id}" => TestJob.Spec(),
                "/v1/jobs/{id}/cancel" => new { reason = "fuzzed" },
                "/v1/datasets/{name}/contributions" => new { record = new { dataset = _dataset, nodeId = _node.Id }, publicKey = "AAAA", signature = "AAAA" },
                "/v1/models/{hash}/infer" => new InferenceRequest(new() { ["wind"] = FieldValue.Of(1) }, 1, 2, now),
                "/v1/nodes/{id}/inference" => new InferencePoll(_node.Id, "t/j", 0, 1, 1, now),
                "/v1/nodes/{id}/inference/answers" => new InferenceAnswers(_node.Id, "t/j", 0, 1, [], now),
                "/v1/nodes/{id}/training" => new TrainingPoll(_node.Id, "t/j", 0, 1, -1, 1, now),
                "/v1/nodes/{id}/training/deltas" => new TrainingDeltaReport(_node.Id, "t/j", 0, 1, 0, "AAAA", now),
                "/v1/nodes/{id}/work" => new WorkPoll(_node.Id, -1, 1, now),
                "/v1/nodes/{id}/work/reports" => new WorkReport(_node.Id, "t/j", 0, 1, WorkReportKind.Progress, 5, null, null, null, now),
                "/v1/ledger/postings" => LedgerApi.Deposit(AccountId.Tenant(_tenant), 5),
                "/v1/nodes/{id}/stake" or "/v1/nodes/{id}/unstake" => new StakeRequest(_node.Id, "fuzzed", 5, now),
                "/v1/nodes/{id}/withdrawals" => new WithdrawalRequest(_node.Id, "fuzzed", AccountId.Provider(_node.Id), 5, now),
                _ => new { name = "fuzzed", value = 1 },
            };
            return JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), Json);
        }

        /// <summary>The body with one value replaced by a value of another JSON kind.</summary>
        private static byte[] Retyped(Random random, byte[] valid)
        {
            var root = JsonNode.Parse(valid)!;
            var values = new List<(JsonNode? Parent, string? Name, int Index, JsonNode? Value)>();
            void Collect(JsonNode? node)
            {
                switch (node)
                {
                    case JsonObject o:
                        foreach (var (name, child) in o.ToList())
                        {
                            values.Add((o, name, -1, child));
                            Collect(child);
                        }

                        break;
                    case JsonArray a:
                        for (var i = 0; i < a.Count; i++)
                        {
                            values.Add((a, null, i, a[i]));
                            Collect(a[i]);
                        }

                        break;
                }
            }

            Collect(root);
            if (values.Count == 0)
            {
                return "{\"\":".ToCharArray().Select(c => (byte)c).ToArray();
            }

            var (parent, name, index, value) = values[random.Next(values.Count)];
            JsonNode other = value?.GetValueKind() switch
            {
                JsonValueKind.String => random.Next(2) == 0 ? JsonValue.Create(12345) : new JsonArray(1, 2),
                JsonValueKind.Number => random.Next(2) == 0 ? JsonValue.Create("12") : new JsonObject { ["n"] = 1 },
                JsonValueKind.True or JsonValueKind.False => JsonValue.Create("yes"),
                JsonValueKind.Array => new JsonObject { ["a"] = 1 },
                JsonValueKind.Object => new JsonArray("o"),
                _ => JsonValue.Create(42),
            };
            if (parent is JsonObject obj)
            {
                obj[name!] = other;
            }
            else if (parent is JsonArray arr)
            {
                arr[index] = other;
            }

            return Encoding.UTF8.GetBytes(root.ToJsonString());
        }

        private static string Garbage(Random random, int length)
        {
            // No NUL: a request target holding one is refused by the HTTP server before routing (a test of its own below).
            const string alphabet = "abcXYZ019-_.:/%\\'\"<>{}[]\u00e9\u4e2d \t";
            return new string([.. Enumerable.Range(0, random.Next(1, length)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
        }

        /// <summary>Replaces one number in the text with one no field can hold.</summary>
        private static class Regex
        {
            private static readonly System.Text.RegularExpressions.Regex Number = new(@"(?<=[:\[,])-?\d+(\.\d+)?(?=[,\]}])");

            public static string Replace(string json, Random random)
            {
                var numbers = Number.Matches(json);
                if (numbers.Count == 0)
                {
                    return json + "1e999";
                }

                var m = numbers[random.Next(numbers.Count)];
                var huge = random.Next(3) switch { 0 => "1e999", 1 => "1" + new string('0', 400), _ => "-1e999" };
                return json[..m.Index] + huge + json[(m.Index + m.Length)..];
            }
        }
    }
}
