using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Jobs;
using DePIN.Core.Economy;
using DePIN.Core.Identity;
using DePIN.Grains;
using DePIN.Grains.Economy;
using DePIN.Grains.Nodes;
using DePIN.Silo.Nodes;
using DePIN.Silo.Tenancy;
using Microsoft.Extensions.Options;

namespace DePIN.Silo.Api;

/// <summary>
/// The ledger over HTTP. Accounts and statements: a tenant's and its jobs' escrow accounts only to that tenant and to
/// operators (anyone else gets 404, exactly as for an account that does not exist); nodes', the treasury's, the
/// slashing pool's and the outside world's to anyone, as a public network's explorer shows them. Operators post
/// any balanced posting (deposits, corrections); nodes stake, unstake and withdraw with requests signed by their key.
/// </summary>
public static class LedgerEndpoints
{
    private const int MaxPostingBytes = 16 * 1024;
    private const int MaxNodeRequestBytes = 2 * 1024;

    public static IEndpointRouteBuilder MapLedgerEndpoints(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/v1/accounts").WithTags("Ledger");
        accounts.MapGet("/{id}", Account)
            .Describe("GetAccount", "An account and its balance, in microcredits.")
            .Produces<AccountView>()
            .Problems(401, 404);
        accounts.MapGet("/{id}/postings", Statement)
            .Describe("ListAccountPostings", "The postings that moved an account, oldest first, each with the balance after it; page with after = the last sequence seen.")
            .Produces<AccountPosting[]>()
            .Problems(400, 401, 404);

        var ledger = app.MapGroup("/v1/ledger").WithTags("Ledger");
        ledger.MapPost("/postings", Post)
            .Describe("Post", "Operators only: posts a balanced posting. 201 when posted, 200 with the first receipt when it was posted before.")
            .Accepts<PostingRequest>("application/json")
            .CreatedOrFound<PostingResult>()
            .Problems(400, 401, 402, 403, 409, 413, 422);
        ledger.MapGet("/postings", Chain)
            .Describe("ListLedgerPostings", "Operators only: the hash chain, oldest first, every posting with its entries, balances and hashes; page with after = the last sequence seen. `depin ledger verify` checks it offline.")
            .Produces<ChainedPostingView[]>()
            .Problems(400, 401, 403);
        ledger.MapGet("/head", Head)
            .Describe("GetLedgerHead", "The last posting's sequence and chain hash: what an offline verification of the history must end at.")
            .Produces<LedgerHeadView>();

        var node = app.MapGroup("/v1/nodes/{id}").WithTags("Ledger");
        node.MapGet("/accounts", NodeAccounts)
            .Describe("ListNodeAccounts", "A node's accounts that exist (provider: what it earned serving work; contributor: what it earned for data; stake), each with its balance in microcredits.")
            .Produces<AccountView[]>()
            .Problems(404);
        NodeRequest<StakeRequest>(node.MapPost("/stake", Stake)
            .Describe("Stake", "Signed by the node: moves funds from its provider balance into its stake, which slashing takes from."));
        NodeRequest<StakeRequest>(node.MapPost("/unstake", Unstake)
            .Describe("Unstake", "Signed by the node: moves stake back to its provider balance; refused (409 stake-locked) while the node holds work."));
        NodeRequest<WithdrawalRequest>(node.MapPost("/withdrawals", Withdraw)
            .Describe("Withdraw", "Signed by the node: pays out of its provider or contributor balance to the outside world."));
        return app;
    }

    // What every signed node request answers: the posting's receipt, or why it was refused.
    private static void NodeRequest<TBody>(RouteHandlerBuilder route)
        where TBody : notnull => route
        .Accepts<TBody>("application/json")
        .CreatedOrFound<PostingResult>()
        .Problems(400, 401, 402, 404, 409);

    private static ILedgerGrain Ledger(IGrainFactory grains) => grains.GetGrain<ILedgerGrain>(0);

    private static async Task<IResult> Account(string id, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api)
    {
        if (await Hidden(id, request, grains, api.Value) is { } hidden)
        {
            return hidden;
        }

        return await Ledger(grains).GetAccount(id) is { } account ? TypedResults.Ok(account) : Problems.UnknownAccount(id);
    }

    private static async Task<IResult> NodeAccounts(string id, IGrainFactory grains)
    {
        if (!NodeIdentity.IsWellFormedNodeId(id) || await grains.GetGrain<INodeGrain>(id).GetDetails() is null)
        {
            return Problems.UnknownNode(id);
        }

        var ledger = Ledger(grains);
        var accounts = await Task.WhenAll(new[] { AccountId.Provider(id), AccountId.Contributor(id), AccountId.Stake(id) }.Select(ledger.GetAccount));
        return TypedResults.Ok(accounts.OfType<AccountView>().ToArray());
    }

    private static async Task<IResult> Statement(string id, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api)
    {
        var (after, limit, malformed) = Page(request);
        if (malformed is not null)
        {
            return malformed;
        }

        if (await Hidden(id, request, grains, api.Value) is { } hidden)
        {
            return hidden;
        }

        var ledger = Ledger(grains);
        if (await ledger.GetAccount(id) is null)
        {
            return Problems.UnknownAccount(id);
        }

        return TypedResults.Ok(await ledger.Statement(id, after, limit));
    }

    private static async Task<IResult> Chain(HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api)
    {
        var (after, limit, malformed) = Page(request);
        if (malformed is not null)
        {
            return malformed;
        }

        return await Caller.RequireOperator(request, grains, api.Value) is { } denied
            ? denied
            : TypedResults.Ok(await Ledger(grains).Chain(after, limit));
    }

    /// <summary>The query of a paged listing: <c>after</c> a sequence (default 0), at most <c>limit</c> rows (default 100).</summary>
    private static (long After, int Limit, IResult? Malformed) Page(HttpRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Validation.CheckParameters(request, errors, "after", "limit");
        var after = Number(request, "after", 0, long.MaxValue, errors);
        var limit = Number(request, "limit", 1, LedgerGrain.MaxStatement, errors);
        return errors.Count > 0 ? (0, 0, Problems.Malformed("query", errors)) : (after ?? 0, (int)(limit ?? 100), null);
    }

    private static long? Number(HttpRequest request, string name, long min, long max, Dictionary<string, string[]> errors)
    {
        if (!request.Query.TryGetValue(name, out var text))
        {
            return null;
        }

        if (long.TryParse(text.ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        errors[name] = [$"must be a whole number from {min} to {max}"];
        return null;
    }

    /// <summary>Null when the caller may see the account; the 401 or 404 to answer otherwise.</summary>
    private static async Task<IResult?> Hidden(string id, HttpRequest request, IGrainFactory grains, ApiOptions api)
    {
        if (AccountId.KindOf(id) is null)
        {
            return Problems.UnknownAccount(id);
        }

        if (AccountId.TenantOf(id) is not { } owner)
        {
            return null;
        }

        var (caller, denied) = await Caller.Authenticate(request, grains, api);
        return caller is null ? denied : caller.IsOperator || caller.Tenant == owner ? null : Problems.UnknownAccount(id);
    }

    private static async Task<IResult> Post(HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> api, CancellationToken cancellationToken)
    {
        if (await Caller.RequireOperator(request, grains, api.Value) is { } denied)
        {
            return denied;
        }

        var (posting, problem) = await JsonBody.Read<PostingRequest>(request, MaxPostingBytes, "posting", cancellationToken);
        if (posting is null)
        {
            return problem!;
        }

        if (PostingRules.Check(LedgerPostings.ToPosting(posting)) is { Count: > 0 } errors)
        {
            return Problems.Malformed("posting", errors);
        }

        return Answer(await Ledger(grains).Post(posting));
    }

    private static async Task<IResult> Head(IGrainFactory grains) => TypedResults.Ok(await Ledger(grains).Head());

    private static async Task<IResult> Stake(
        string id, HttpRequest request, IGrainFactory grains, NodeKeyCache keys, PlatformClock clock, IOptions<NodeOptions> nodes, CancellationToken cancellationToken)
    {
        var (stake, problem) = await ReadStake(id, request, keys, clock, nodes.Value, cancellationToken);
        return stake is null ? problem! : await PostChecked(grains, LedgerPostings.Stake(id, stake.Id, stake.Amount));
    }

    private static async Task<IResult> Unstake(
        string id, HttpRequest request, IGrainFactory grains, NodeKeyCache keys, PlatformClock clock, IOptions<NodeOptions> nodes, CancellationToken cancellationToken)
    {
        var (stake, problem) = await ReadStake(id, request, keys, clock, nodes.Value, cancellationToken);
        if (stake is null)
        {
            return problem!;
        }

        // Slashing takes from the stake of a node that lies or abandons its work: none is released while it holds any.
        var work = await grains.GetGrain<INodeWorkGrain>(id).Poll(-1, TimeSpan.Zero);
        if (work.Items.Length > 0)
        {
            return Problems.StakeLocked(id);
        }

        return await PostChecked(grains, LedgerPostings.Unstake(id, stake.Id, stake.Amount));
    }

    private static async Task<IResult> Withdraw(
        string id, HttpRequest request, IGrainFactory grains, NodeKeyCache keys, PlatformClock clock, IOptions<NodeOptions> nodes, CancellationToken cancellationToken)
    {
        var (withdrawal, problem) = await NodeSignedRequest.ReadJson<WithdrawalRequest>(id, request, MaxNodeRequestBytes, keys, "withdrawal", cancellationToken);
        if (withdrawal is null)
        {
            return problem!;
        }

        var errors = CheckNodeRequest(id, withdrawal.NodeId, withdrawal.Id, withdrawal.Amount, withdrawal.Timestamp, clock, nodes.Value);
        if (withdrawal.Account != AccountId.Provider(id) && withdrawal.Account != AccountId.Contributor(id))
        {
            errors["account"] = [$"must be {AccountId.Provider(id)} or {AccountId.Contributor(id)}"];
        }

        return errors.Count > 0
            ? Problems.Malformed("withdrawal", errors)
            : await PostChecked(grains, LedgerPostings.Withdrawal(withdrawal.Account, withdrawal.Id, withdrawal.Amount));
    }

    private static async Task<(StakeRequest? Stake, IResult? Problem)> ReadStake(
        string id, HttpRequest request, NodeKeyCache keys, PlatformClock clock, NodeOptions nodes, CancellationToken cancellationToken)
    {
        var (stake, problem) = await NodeSignedRequest.ReadJson<StakeRequest>(id, request, MaxNodeRequestBytes, keys, "stake request", cancellationToken);
        if (stake is null)
        {
            return (null, problem);
        }

        var errors = CheckNodeRequest(id, stake.NodeId, stake.Id, stake.Amount, stake.Timestamp, clock, nodes);
        return errors.Count > 0 ? (null, Problems.Malformed("stake request", errors)) : (stake, null);
    }

    private static Dictionary<string, string[]> CheckNodeRequest(
        string id, string nodeId, string postingId, long amount, DateTimeOffset timestamp, PlatformClock clock, NodeOptions nodes)
    {
        var errors = Validation.CheckNodeRequest(id, nodeId, timestamp, clock.UtcNow, nodes.MaxClockSkew);
        if (!PostingRules.IsPostingId(postingId))
        {
            errors["id"] = [$"must be 1 to {PostingRules.MaxIdLength} letters, digits, '-', '_', '.', ':' or '/'"];
        }

        if (amount is <= 0 or > PostingRules.MaxAmount)
        {
            errors["amount"] = [$"must be between 1 and {PostingRules.MaxAmount} microcredits"];
        }

        return errors;
    }

    private static async Task<IResult> PostChecked(IGrainFactory grains, PostingRequest posting) => Answer(await Ledger(grains).Post(posting));

    private static IResult Answer(PostingResult result) => result.Status switch
    {
        PostingStatus.Posted => TypedResults.Created((string?)null, result),
        PostingStatus.Duplicate => TypedResults.Ok(result),
        PostingStatus.Conflict => Problems.PostingConflict(result.Id),
        PostingStatus.UnknownAccount => Problems.UnopenedAccounts(result.Detail ?? ""),
        PostingStatus.InsufficientFunds => Problems.InsufficientFunds(result.Detail ?? ""),
        _ => Problems.Malformed("posting", new Dictionary<string, string[]> { ["entries"] = [result.Detail ?? "is invalid"] }),
    };
}
