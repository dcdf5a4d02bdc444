using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Http;
using DePIN.Client.Datasets;

namespace DePIN.Cli;

/// <summary>
/// <c>depin dataset verify</c>: checks that a record is in a dataset's log under the tree head its receipt names,
/// and that the dataset's latest head extends that one. Every check is done here, with public keys: the API only
/// supplies proofs and heads, which are worthless unless they verify. Pin the platform key with <c>--key</c>
/// (from a source you trust) rather than taking the API's word for it.
/// </summary>
public static class DatasetCommands
{
    public const string Usage = """
        usage: depin dataset verify --api URL --record RECORD.json --receipt RECEIPT.json [--key PLATFORM_KEY_BASE64]
          RECORD.json   the contribution as posted: {"record":{…},"publicKey":"…","signature":"…"}
          RECEIPT.json  the receipt the platform returned: {"contentHash":…,"leafIndex":…,"treeHead":{…}}
        Exit code 0 when every check holds, 1 when one fails, 2 for bad usage.
        """;

    public static async Task<int> Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args is not ["dataset", "verify", .. var rest] || Options(rest) is not { } options
            || !options.TryGetValue("api", out var api) || !options.TryGetValue("record", out var recordFile) || !options.TryGetValue("receipt", out var receiptFile))
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        ContributionRequest record;
        ContributionReceipt receipt;
        try
        {
            record = Read<ContributionRequest>(recordFile);
            receipt = Read<ContributionReceipt>(receiptFile);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"depin: {e.Message}");
            return 2;
        }

        using var http = new HttpClient { BaseAddress = new Uri(api), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            return await Verify(http, record, receipt, options.GetValueOrDefault("key"), output, error);
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"depin: the API at {api} did not answer as expected: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> Verify(HttpClient http, ContributionRequest record, ContributionReceipt receipt, string? pinnedKey, TextWriter output, TextWriter error)
    {
        var key = pinnedKey ?? (await http.GetFromJsonAsync<PlatformKeys>("/v1/platform/keys", ApiJson.Options))!.TreeHeadPublicKey;
        var head = receipt.TreeHead;
        var dataset = Uri.EscapeDataString(head.Dataset);
        var inclusionProof = await http.GetFromJsonAsync<MerkleProofView>(
            $"/v1/datasets/{dataset}/proofs/inclusion?leaf={receipt.LeafIndex}&size={head.Size}", ApiJson.Options);
        var included = DatasetVerifier.Inclusion(record, receipt.LeafIndex, head, inclusionProof!, key);

        var latest = (await http.GetFromJsonAsync<DatasetInfo>($"/v1/datasets/{dataset}", ApiJson.Options))!.TreeHead;
        var consistencyProof = await http.GetFromJsonAsync<MerkleProofView>(
            $"/v1/datasets/{dataset}/proofs/consistency?first={head.Size}&second={latest.Size}", ApiJson.Options);
        var consistent = DatasetVerifier.Consistency(head, latest, consistencyProof!, key);

        var result = new JsonObject
        {
            ["dataset"] = head.Dataset,
            ["leaf"] = receipt.LeafIndex,
            ["head_size"] = head.Size,
            ["included"] = included.Valid,
            ["latest_size"] = latest.Size,
            ["consistent"] = consistent.Valid,
            ["key"] = pinnedKey is null ? "from the API" : "pinned",
            ["detail"] = new JsonArray(included.Detail, consistent.Detail),
        };
        await output.WriteLineAsync(result.ToJsonString());
        if (included.Valid && consistent.Valid)
        {
            return 0;
        }

        await error.WriteLineAsync($"depin: verification failed: {(included.Valid ? consistent.Detail : included.Detail)}");
        return 1;
    }

    private static T Read<T>(string path) =>
        JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), ApiJson.Options) ?? throw new JsonException($"{path} holds no {typeof(T).Name}.");

    private static Dictionary<string, string>? Options(string[] args)
    {
        if (args.Length % 2 != 0)
        {
            return null;
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || !options.TryAdd(args[i][2..], args[i + 1]))
            {
                return null;
            }
        }

        return options.Keys.All(k => k is "api" or "record" or "receipt" or "key") ? options : null;
    }
}
