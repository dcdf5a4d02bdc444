using System.Net;
using System.Net.Http.Json;
using System.Text;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Http;
using DePIN.Core.Economy;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary>The ledger's HTTP contract against a real silo on PostgreSQL.</summary>
public sealed class LedgerApiTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>
{
    private readonly JobApi _jobs = new(cluster.Http);
    private readonly LedgerApi _ledger = new(cluster.Http);

    [Fact]
    public async Task A_deposit_posts_once_and_its_replay_returns_the_first_receipt()
    {
        var tenant = Tenant(await _jobs.NewTenant(funds: 0));
        var deposit = LedgerApi.Deposit(tenant, 10 * AccountId.PerCredit);

        using var created = await _ledger.Post(deposit);
        var first = await created.Content.ReadFromJsonAsync<PostingResult>(ApiJson.Options);
        using var again = await _ledger.Post(deposit);
        var second = await again.Content.ReadFromJsonAsync<PostingResult>(ApiJson.Options);
        using var changed = await _ledger.Post(deposit with { Entries = [new LedgerEntry(AccountId.External, Debit: 11), new LedgerEntry(tenant, Credit: 11)] });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal((HttpStatusCode.OK, PostingStatus.Duplicate), (again.StatusCode, second!.Status));
        Assert.Equal((first!.Sequence, first.Hash, first.PostedAt), (second.Sequence, second.Hash, second.PostedAt));
        Assert.Equal(HttpStatusCode.Conflict, changed.StatusCode);
        Assert.Equal("urn:depin:problem:posting-conflict", await Http.ProblemType(changed));
        Assert.Equal(10 * AccountId.PerCredit, await _ledger.Balance(tenant));
        var statement = await _ledger.Statement(tenant);
        Assert.Equal([(first.Sequence!.Value, deposit.Id, 10 * AccountId.PerCredit)], statement.Select(s => (s.Sequence, s.PostingId, s.Balance)));
    }

    [Fact]
    public async Task Unbalanced_negative_overflowing_unknown_and_overdrawn_postings_are_refused_and_change_nothing()
    {
        var tenant = Tenant(await _jobs.NewTenant(funds: 0));
        await _ledger.Fund(tenant, 1000);
        var someTenant = await _jobs.NewTenant(funds: 0);
        var head = await _ledger.Head();
        PostingRequest Two(long debit, long credit, string to = AccountId.Treasury) =>
            new(JobApi.Unique("bad"), PostingKinds.Adjustment, [new LedgerEntry(tenant, Debit: debit), new LedgerEntry(to, Credit: credit)]);

        using var unbalanced = await _ledger.Post(Two(100, 99));
        using var negative = await _ledger.Post(Two(-100, -100));
        using var overflowing = await _ledger.Post(new PostingRequest(JobApi.Unique("big"), PostingKinds.Adjustment,
            [new LedgerEntry(tenant, Debit: long.MaxValue), new LedgerEntry(AccountId.Treasury, Credit: long.MaxValue)]));
        using var unknown = await _ledger.Post(Two(10, 10, "tenant:nobody-has-this"));
        using var overdrawn = await _ledger.Post(Two(1001, 1001));
        using var badKind = await _ledger.Post(Two(1, 1) with { Kind = "mint" });
        using var notJson = await _jobs.SendRaw(HttpMethod.Post, "/v1/ledger/postings", Http.OperatorKey, Encoding.UTF8.GetBytes("{\"id\":"));
        using var byTenant = await _jobs.Send(HttpMethod.Post, "/v1/ledger/postings", someTenant, LedgerApi.Deposit(tenant, 5));
        using var anonymous = await _jobs.Send(HttpMethod.Post, "/v1/ledger/postings", null, LedgerApi.Deposit(tenant, 5));

        Assert.Equal(HttpStatusCode.BadRequest, unbalanced.StatusCode);
        Assert.Equal(["entries"], await JobApi.Fields(unbalanced));
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        Assert.Contains("entries[0]", await JobApi.Fields(negative));
        Assert.Equal(HttpStatusCode.BadRequest, overflowing.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknown.StatusCode);
        Assert.Equal("urn:depin:problem:unknown-account", await Http.ProblemType(unknown));
        Assert.Equal(HttpStatusCode.PaymentRequired, overdrawn.StatusCode);
        Assert.Equal("urn:depin:problem:insufficient-funds", await Http.ProblemType(overdrawn));
        Assert.Equal(["kind"], await JobApi.Fields(badKind));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byTenant.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(1000, await _ledger.Balance(tenant));
        Assert.Equal(head, await _ledger.Head());
    }

    [Fact]
    public async Task A_tenant_never_sees_another_tenants_accounts_while_node_accounts_are_public()
    {
        var owner = await _jobs.NewTenant();
        var other = await _jobs.NewTenant();
        var account = Tenant(owner);
        using var node = TestNode.Create();
        (await node.Register(cluster.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();

        using var own = await _jobs.Send(HttpMethod.Get, $"/v1/accounts/{account}", owner);
        using var theirs = await _jobs.Send(HttpMethod.Get, $"/v1/accounts/{account}", other);
        using var theirStatement = await _jobs.Send(HttpMethod.Get, $"/v1/accounts/{account}/postings", other);
        using var never = await _jobs.Send(HttpMethod.Get, "/v1/accounts/tenant:never-created", other);
        using var anonymous = await _jobs.Send(HttpMethod.Get, $"/v1/accounts/{account}", null);
        using var provider = await _jobs.Send(HttpMethod.Get, $"/v1/accounts/{AccountId.Provider(node.Id)}", null);
        using var badPage = await _jobs.Send(HttpMethod.Get, $"/v1/accounts/{account}/postings?limit=0&page=2", owner);

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, theirStatement.StatusCode);
        Assert.Equal(await Http.ProblemType(never), await Http.ProblemType(theirs));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, provider.StatusCode);
        Assert.Equal(["limit", "page"], await JobApi.Fields(badPage));
    }

    [Fact]
    public async Task A_node_stakes_from_its_balance_unstakes_and_withdraws_with_signed_requests()
    {
        using var node = TestNode.Create();
        (await node.Register(cluster.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
        await _ledger.Fund(AccountId.Provider(node.Id), 5000);
        byte[] Stake(string id, long amount) => TestNode.Json(new StakeRequest(node.Id, id, amount, DateTimeOffset.UtcNow));

        using var staked = await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/stake", Stake("s1", 3000));
        using var replayed = await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/stake", Stake("s1", 3000));
        using var tooMuch = await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/stake", Stake("s2", 3000));
        using var forged = await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/stake", Stake("s3", 1), by: Core.Identity.NodeSigner.Create());
        using var stale = await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/stake",
            TestNode.Json(new StakeRequest(node.Id, "s4", 1, DateTimeOffset.UtcNow.AddHours(-1))));
        using var unstaked = await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/unstake", Stake("u1", 1000));
        using var withdrawn = await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/withdrawals",
            TestNode.Json(new WithdrawalRequest(node.Id, "w1", AccountId.Provider(node.Id), 2500, DateTimeOffset.UtcNow)));
        using var notTheirs = await node.Post(cluster.Http, $"/v1/nodes/{node.Id}/withdrawals",
            TestNode.Json(new WithdrawalRequest(node.Id, "w2", AccountId.Treasury, 1, DateTimeOffset.UtcNow)));

        Assert.Equal(HttpStatusCode.Created, staked.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.Equal(HttpStatusCode.PaymentRequired, tooMuch.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(["timestamp"], await JobApi.Fields(stale));
        Assert.Equal(HttpStatusCode.Created, unstaked.StatusCode);
        Assert.Equal(HttpStatusCode.Created, withdrawn.StatusCode);
        Assert.Equal(["account"], await JobApi.Fields(notTheirs));
        Assert.Equal((2000L, 500L), (await _ledger.Balance(AccountId.Stake(node.Id)), await _ledger.Balance(AccountId.Provider(node.Id))));
    }

    private static string Tenant(string apiKey) => AccountId.Tenant(apiKey.Split('.')[0]);
}
