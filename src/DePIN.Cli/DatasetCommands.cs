using DePIN.Client.Datasets;

namespace DePIN.Cli;

/// <summary>
/// <c>depin dataset create</c> creates a dataset from a definition file. <c>depin dataset verify</c> checks that a record is in a dataset's log under the tree head its receipt names,
/// and that the dataset's latest head extends that one. Every check is done here, with public keys: the API only
/// supplies proofs and heads, which are worthless unless they verify. Pin the platform key with <c>--key</c>
/// (from a source you trust) rather than taking the API's word for it.
/// </summary>
public static class DatasetCommands
{
    public const string Usage = """
        usage: depin dataset create NAME --api URL --definition DEFINITION.json
               depin dataset verify --api URL --record RECORD.json --receipt RECEIPT.json [--key PLATFORM_KEY_BASE64]
          create        creates dataset NAME (the same definition again changes nothing); the API key (a tenant's or
                        the operator's) is read from the environment variable DEPIN_API_KEY, never from the command line
          RECORD.json   the contribution as posted: {"record":{…},"publicKey":"…","signature":"…"}
          RECEIPT.json  the receipt the platform returned: {"contentHash":…,"leafIndex":…,"treeHead":{…}}
        Exit code 0 when the dataset is there or every check holds, 1 when the API refuses or a check fails, 2 for bad usage.
        """;

    /// <summary>The environment variable <c>depin dataset create</c> reads the API key from.</summary>
    public const string ApiKeyVariable = Api.KeyVariable;

    public static async Task<int> Run(string[] args, TextWriter output, TextWriter error) => args switch
    {
        ["dataset", "verify", .. var rest] => await Verify(rest, output, error),
        ["dataset", "create", var name, .. var rest] when !name.StartsWith("--", StringComparison.Ordinal) => await Create(name, rest, output, error),
        _ => await BadUsage(error),
    };

    private static async Task<int> BadUsage(TextWriter error)
    {
        await error.WriteLineAsync(Usage);
        return 2;
    }

    private static async Task<int> Create(string name, string[] args, TextWriter output, TextWriter error)
    {
        if (Options.Parse(args, "api", "definition") is not { } options || !options.TryGetValue("api", out var api) || !Api.IsApi(api)
            || !options.TryGetValue("definition", out var definitionFile))
        {
            return await BadUsage(error);
        }

        if (Environment.GetEnvironmentVariable(ApiKeyVariable) is not { Length: > 0 } key)
        {
            await error.WriteLineAsync($"depin: set {ApiKeyVariable} to a tenant's or the operator's API key.");
            return 2;
        }

        byte[] definition;
        try
        {
            definition = File.ReadAllBytes(definitionFile);
            _ = JsonSerializer.Deserialize<DatasetDefinition>(definition, ApiJson.Options) ?? throw new JsonException($"{definitionFile} holds no dataset definition.");
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"depin: {e.Message}");
            return 2;
        }

        using var http = Api.Client(api);
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/v1/datasets/{Uri.EscapeDataString(name)}")
        {
            Content = new ByteArrayContent(definition) { Headers = { ContentType = new("application/json") } },
            Headers = { Authorization = new("Bearer", key) },
        };
        try
        {
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                await error.WriteLineAsync($"depin: the API refused dataset '{name}' ({(int)response.StatusCode}): {body}");
                return 1;
            }

            await output.WriteLineAsync(body);
            await error.WriteLineAsync(response.StatusCode == System.Net.HttpStatusCode.Created
                ? $"depin: created dataset '{name}'."
                : $"depin: dataset '{name}' already exists with this definition.");
            return 0;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"depin: the API at {api} did not answer: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> Verify(string[] args, TextWriter output, TextWriter error)
    {
        if (Options.Parse(args, "api", "record", "receipt", "key") is not { } options || !options.TryGetValue("api", out var api) || !Api.IsApi(api)
            || !options.TryGetValue("record", out var recordFile) || !options.TryGetValue("receipt", out var receiptFile))
        {
            return await BadUsage(error);
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

        using var http = Api.Client(api);
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
}
