using System.Globalization;
using DePIN.Abstractions.Economy;
using DePIN.Core.Economy;
using DePIN.Core.Identity;

namespace DePIN.Cli;

/// <summary>
/// <c>depin ledger …</c>: read accounts and statements, stake, unstake and withdraw as a node (requests signed here
/// with the node's key file), and export or verify the whole ledger. Verification is done here: the chain is
/// recomputed posting by posting with <see cref="LedgerVerifier"/> (hashes, sequence, balance, no overdraft,
/// balances after each posting, supply conserved), so the API's word counts for nothing.
/// </summary>
public static class LedgerCommands
{
    public const string Usage = """
        usage: depin ledger account ID --api URL
               depin ledger postings ID --api URL [--after SEQUENCE] [--limit N]
               depin ledger stake|unstake --api URL --key NODE_KEY_FILE --amount CREDITS [--id POSTING_ID]
               depin ledger withdraw --api URL --key NODE_KEY_FILE --amount CREDITS --from provider|contributor [--id POSTING_ID]
               depin ledger post --api URL --posting POSTING.json
               depin ledger export --api URL [--out FILE]
               depin ledger verify (--api URL | --file FILE)
          account, postings  an account and its statement (tenants' accounts need that tenant's or the operator's key)
          stake, unstake, withdraw
                        signed with the node's Ed25519 key (the agent's 32-byte key file, e.g. keys/node-0.key);
                        the posting id defaults to one made from the time, so give --id to retry safely
          post          posts a balanced posting as the operator (a deposit received, a correction); the same file again
                        is answered with the first receipt
          export        the whole hash chain as JSON lines, one posting per line (operators)
          verify        recomputes the chain from the API (up to the head it reads first) or from an export
        API keys (a tenant's or the operator's) are read from the environment variable DEPIN_API_KEY.
        Amounts are printed in microcredits (1 credit = 1,000,000). Exit code 0 when it worked or the ledger verifies,
        1 when the API refuses or verification fails, 2 for bad usage.
        """;

    private const int Page = 1000;

    public static async Task<int> Run(string[] args, TextWriter output, TextWriter error)
    {
        try
        {
            return args switch
            {
                ["account", var id, .. var rest] when IsValue(id) => await WithApi(rest, [], error, (http, _) => Print(http, $"/v1/accounts/{Uri.EscapeDataString(id)}", output, error)),
                ["postings", var id, .. var rest] when IsValue(id) => await WithApi(rest, ["after", "limit"], error, (http, o) =>
                    Print(http, $"/v1/accounts/{Uri.EscapeDataString(id)}/postings?after={o.GetValueOrDefault("after", "0")}&limit={o.GetValueOrDefault("limit", "100")}", output, error)),
                ["stake", .. var rest] => await WithApi(rest, ["key", "amount", "id"], error, (http, o) => Signed(http, "stake", o, output, error)),
                ["unstake", .. var rest] => await WithApi(rest, ["key", "amount", "id"], error, (http, o) => Signed(http, "unstake", o, output, error)),
                ["withdraw", .. var rest] => await WithApi(rest, ["key", "amount", "id", "from"], error, (http, o) => Signed(http, "withdrawals", o, output, error)),
                ["post", .. var rest] => await WithApi(rest, ["posting"], error, (http, o) => Post(http, o, output, error)),
                ["export", .. var rest] => await WithApi(rest, ["out"], error, (http, o) => Export(http, o.GetValueOrDefault("out"), output)),
                ["verify", "--file", var file] => await Verify(ReadFile(file), null, output, error),
                ["verify", .. var rest] => await WithApi(rest, [], error, async (http, _) =>
                    await Verify(ReadApi(http), (await http.GetFromJsonAsync<LedgerHeadView>("/v1/ledger/head", ApiJson.Options))!, output, error)),
                _ => await BadUsage(error),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            await error.WriteLineAsync($"depin: {e.Message}");
            return 2;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"depin: the API did not answer as expected: {e.Message}");
            return 1;
        }
    }

    private static bool IsValue(string arg) => !arg.StartsWith("--", StringComparison.Ordinal);

    private static async Task<int> BadUsage(TextWriter error)
    {
        await error.WriteLineAsync(Usage);
        return 2;
    }

    /// <summary>Parses <c>--api URL</c> and the other options, then runs <paramref name="command"/> with a client for the API.</summary>
    private static async Task<int> WithApi(string[] args, string[] known, TextWriter error, Func<HttpClient, Dictionary<string, string>, Task<int>> command)
    {
        if (Options.Parse(args, ["api", .. known]) is not { } options || !options.TryGetValue("api", out var api) || !Api.IsApi(api))
        {
            return await BadUsage(error);
        }

        using var http = Api.Client(api);
        return await command(http, options);
    }

    private static async Task<int> Print(HttpClient http, string path, TextWriter output, TextWriter error)
    {
        using var response = await http.GetAsync(path);
        return await Answer(response, output, error);
    }

    // The body on success, the problem details on stderr otherwise.
    private static async Task<int> Answer(HttpResponseMessage response, TextWriter output, TextWriter error)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (response.IsSuccessStatusCode)
        {
            await output.WriteLineAsync(body);
            return 0;
        }

        await error.WriteLineAsync($"depin: the API refused ({(int)response.StatusCode}): {body}");
        return 1;
    }

    private static async Task<int> Post(HttpClient http, Dictionary<string, string> options, TextWriter output, TextWriter error)
    {
        if (!options.TryGetValue("posting", out var file))
        {
            return await BadUsage(error);
        }

        // Sent as written: the API checks it, and its problem details name what is wrong.
        var content = new ByteArrayContent(await File.ReadAllBytesAsync(file)) { Headers = { ContentType = new("application/json") } };
        using var response = await http.PostAsync("/v1/ledger/postings", content);
        return await Answer(response, output, error);
    }

    /// <summary>A stake, unstake or withdrawal, signed with the node's key.</summary>
    private static async Task<int> Signed(HttpClient http, string route, Dictionary<string, string> options, TextWriter output, TextWriter error)
    {
        if (!options.TryGetValue("key", out var keyFile) || !options.TryGetValue("amount", out var credits) || Amount(credits) is not { } amount
            || (route == "withdrawals") != options.ContainsKey("from") || options.GetValueOrDefault("from") is not (null or "provider" or "contributor"))
        {
            return await BadUsage(error);
        }

        var seed = await File.ReadAllBytesAsync(keyFile);
        if (seed.Length != 32)
        {
            await error.WriteLineAsync($"depin: {keyFile} holds {seed.Length} bytes; a node's Ed25519 key file holds 32.");
            return 2;
        }

        using var signer = NodeSigner.Import(seed);
        await error.WriteLineAsync($"depin: signing as node {signer.NodeId} ({keyFile})");
        var now = DateTimeOffset.UtcNow;
        var id = options.GetValueOrDefault("id") ?? $"cli-{now.ToUnixTimeMilliseconds()}"; // the platform prefixes it with the kind and the node
        byte[] body = route == "withdrawals"
            ? JsonSerializer.SerializeToUtf8Bytes(new WithdrawalRequest(signer.NodeId, id,
                options["from"] == "provider" ? AccountId.Provider(signer.NodeId) : AccountId.Contributor(signer.NodeId), amount, now), ApiJson.Options)
            : JsonSerializer.SerializeToUtf8Bytes(new StakeRequest(signer.NodeId, id, amount, now), ApiJson.Options);
        using var request = ApiJson.SignedPost($"/v1/nodes/{signer.NodeId}/{route}", body, signer.Sign(body));
        using var response = await http.SendAsync(request);
        return await Answer(response, output, error);
    }

    /// <summary>Credits as microcredits; null unless positive with at most six decimals.</summary>
    private static long? Amount(string credits) =>
        decimal.TryParse(credits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value > 0
            && value * AccountId.PerCredit == decimal.Floor(value * AccountId.PerCredit) && value <= (decimal)PostingRules.MaxAmount / AccountId.PerCredit
            ? AccountId.Microcredits(value)
            : null;

    private static async IAsyncEnumerable<ChainedPostingView> ReadApi(HttpClient http)
    {
        for (long after = 0; ;)
        {
            var page = await http.GetFromJsonAsync<ChainedPostingView[]>($"/v1/ledger/postings?after={after}&limit={Page}", ApiJson.Options) ?? [];
            foreach (var posting in page)
            {
                yield return posting;
            }

            if (page.Length < Page)
            {
                yield break;
            }

            after = page[^1].Sequence;
        }
    }

    private static async IAsyncEnumerable<ChainedPostingView> ReadFile(string file)
    {
        using var reader = File.OpenText(file);
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length > 0)
            {
                yield return JsonSerializer.Deserialize<ChainedPostingView>(line, ApiJson.Options) ?? throw new JsonException($"{file}: a line holds no posting.");
            }
        }
    }

    private static async Task<int> Export(HttpClient http, string? file, TextWriter output)
    {
        await using var stream = file is null ? null : File.CreateText(file);
        var writer = stream ?? output;
        long count = 0;
        await foreach (var posting in ReadApi(http))
        {
            await writer.WriteLineAsync(JsonSerializer.Serialize(posting, ApiJson.Options));
            count++;
        }

        if (stream is not null)
        {
            await output.WriteLineAsync(new JsonObject { ["file"] = file, ["postings"] = count }.ToJsonString());
        }

        return 0;
    }

    /// <summary>
    /// Replays the chain through <see cref="LedgerVerifier"/>. Accounts are known by their ids (the id names the kind;
    /// one unit); an id that names no account is left unknown, and the verifier reports it. From the API, the chain is
    /// read up to the head read before it, which must be where it ends.
    /// </summary>
    private static async Task<int> Verify(IAsyncEnumerable<ChainedPostingView> chain, LedgerHeadView? head, TextWriter output, TextWriter error)
    {
        var accounts = new Dictionary<string, (AccountKind Kind, string Unit)>(StringComparer.Ordinal);
        var verifier = new LedgerVerifier(accounts);
        await foreach (var posting in chain)
        {
            if (head is not null && posting.Sequence > head.Sequence)
            {
                break;
            }

            foreach (var entry in posting.Entries ?? [])
            {
                if (entry.Account is not null && AccountId.KindOf(entry.Account) is { } kind)
                {
                    accounts.TryAdd(entry.Account, (kind, AccountId.Unit));
                }
            }

            verifier.Add(posting.ToChained());
        }

        var report = verifier.Finish();
        var problems = report.Problems.ToList();
        var ends = Convert.ToHexStringLower(report.HeadHash);
        if (head is not null && (report.LastSequence != head.Sequence || ends != head.Hash))
        {
            problems.Add($"the chain ends at posting {report.LastSequence} ({ends}), not at the head the API reports: {head.Sequence} ({head.Hash}).");
        }

        var result = new JsonObject
        {
            ["valid"] = problems.Count == 0,
            ["postings"] = report.Postings,
            ["last_sequence"] = report.LastSequence,
            ["head_hash"] = ends,
            ["accounts"] = report.Accounts,
            ["supply"] = new JsonObject(report.Supply.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))),
            ["problems"] = new JsonArray([.. problems.Select(p => (JsonNode?)p)]),
        };
        await output.WriteLineAsync(result.ToJsonString());
        if (problems.Count == 0)
        {
            return 0;
        }

        await error.WriteLineAsync($"depin: the ledger does not verify: {problems[0]}");
        return 1;
    }
}
