using System.Text.Json;
using System.Text.Json.Nodes;
using DePIN.Core.Economy;
using DePIN.Testing;

namespace DePIN.Silo.Tests;

/// <summary><c>depin ledger …</c> as an operator and a provider run it, as a process, against a real silo on PostgreSQL.</summary>
public sealed class LedgerCliTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>, IDisposable
{
    private readonly LedgerApi _ledger = new(cluster.Http);
    private readonly string _folder = Directory.CreateTempSubdirectory("depin-ledger-").FullName;

    [Fact]
    public async Task The_operator_funds_a_provider_which_stakes_and_withdraws_with_its_key_file_and_reads_its_accounts()
    {
        using var node = TestNode.Create();
        (await node.Register(cluster.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
        var deposit = Path.Combine(_folder, "deposit.json");
        await File.WriteAllTextAsync(deposit, $$"""
            {"id":"cli-deposit-{{node.Id}}","kind":"deposit","entries":[{"account":"external","debit":5000000},{"account":"{{AccountId.Provider(node.Id)}}","credit":5000000}]}
            """);
        var funded = await Depin(Http.OperatorKey, "post", "--posting", deposit);
        var refused = await Depin(null, "post", "--posting", deposit);
        var key = Path.Combine(_folder, "node.key");
        await File.WriteAllBytesAsync(key, node.Signer.ExportPrivateKey());

        var staked = await Depin(null, "stake", "--key", key, "--amount", "2", "--id", "cli-stake-1");
        var again = await Depin(null, "stake", "--key", key, "--amount", "2", "--id", "cli-stake-1");
        var withdrawn = await Depin(null, "withdraw", "--key", key, "--amount", "0.5", "--from", "provider");
        var tooMuch = await Depin(null, "withdraw", "--key", key, "--amount", "100", "--from", "provider");
        var account = await Depin(null, "account", AccountId.Stake(node.Id));
        var statement = await Depin(null, "postings", AccountId.Provider(node.Id), "--after", "0", "--limit", "10");
        var badAmount = await Depin(null, "stake", "--key", key, "--amount", "0.0000001");

        Assert.Equal((0, "posted"), (funded.ExitCode, Json(funded)["status"]!.GetValue<string>()));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("401", refused.Error, StringComparison.Ordinal);
        Assert.Equal((0, "posted"), (staked.ExitCode, Json(staked)["status"]!.GetValue<string>()));
        Assert.Equal((0, "duplicate"), (again.ExitCode, Json(again)["status"]!.GetValue<string>()));
        Assert.Equal(0, withdrawn.ExitCode);
        Assert.Equal(1, tooMuch.ExitCode);
        Assert.Contains("402", tooMuch.Error, StringComparison.Ordinal);
        Assert.Equal(2 * AccountId.PerCredit, Json(account)["balance"]!.GetValue<long>());
        Assert.Equal([5 * AccountId.PerCredit, 3 * AccountId.PerCredit, 2_500_000],
            JsonNode.Parse(statement.Output)!.AsArray().Select(p => p!["balance"]!.GetValue<long>()));
        Assert.Equal(2, badAmount.ExitCode);
        Assert.Equal(2_500_000, await _ledger.Balance(AccountId.Provider(node.Id)));
    }

    [Fact]
    public async Task An_operator_exports_the_ledger_and_verifies_it_offline_and_a_changed_export_fails()
    {
        var apiKey = await new JobApi(cluster.Http).NewTenant(funds: 3 * AccountId.PerCredit);
        var tenant = AccountId.Tenant(apiKey.Split('.')[0]);
        await _ledger.Fund(tenant, 1);
        await _ledger.Fund(tenant, 2);
        var export = Path.Combine(_folder, "ledger.jsonl");

        var exported = await Depin(Http.OperatorKey, "export", "--out", export);
        var fromFile = await Depin(null, "verify", "--file", export);
        var fromApi = await Depin(Http.OperatorKey, "verify");
        var anonymous = await Depin(null, "export");

        // Pay the tenant's deposit to someone else in the export: the hashes no longer recompute.
        var lines = await File.ReadAllLinesAsync(export);
        var deposit = lines.Index().First(l => l.Item.Contains(tenant, StringComparison.Ordinal) && l.Item.Contains("\"deposit\"", StringComparison.Ordinal));
        lines[deposit.Index] = deposit.Item.Replace(tenant, AccountId.Tenant("mallory"), StringComparison.Ordinal);
        var changed = Path.Combine(_folder, "changed.jsonl");
        await File.WriteAllLinesAsync(changed, lines);
        var tampered = await Depin(null, "verify", "--file", changed);
        var dropped = Path.Combine(_folder, "dropped.jsonl");
        await File.WriteAllLinesAsync(dropped, lines.Where((_, i) => i != lines.Length - 2));
        var gap = await Depin(null, "verify", "--file", dropped);

        Assert.Equal(0, exported.ExitCode);
        Assert.Equal(lines.Length, Json(exported)["postings"]!.GetValue<long>());
        Assert.True((fromFile.ExitCode, Json(fromFile)["valid"]!.GetValue<bool>()) == (0, true), fromFile.Output + fromFile.Error);
        // What circulates is what the outside world paid in.
        Assert.Equal(-await _ledger.Balance(AccountId.External), Json(fromFile)["supply"]!["ucr"]!.GetValue<long>());
        Assert.True((fromApi.ExitCode, Json(fromApi)["valid"]!.GetValue<bool>()) == (0, true), fromApi.Output + fromApi.Error);
        Assert.True(Json(fromApi)["postings"]!.GetValue<long>() >= lines.Length);
        Assert.True(anonymous.ExitCode == 1, anonymous.Output + anonymous.Error);
        Assert.Contains("401", anonymous.Error, StringComparison.Ordinal);
        Assert.True(tampered.ExitCode == 1, tampered.Output + tampered.Error);
        Assert.Contains(Json(tampered)["problems"]!.AsArray(), p => p!.GetValue<string>().Contains("does not recompute", StringComparison.Ordinal));
        Assert.True(gap.ExitCode == 1, gap.Output + gap.Error);
        Assert.Contains(Json(gap)["problems"]!.AsArray(), p => p!.GetValue<string>().Contains("gap", StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // The command with the silo's API added (but for a verification of a file), the key in the environment.
    private Task<(int ExitCode, string Output, string Error)> Depin(string? apiKey, params string[] args) =>
        ProcessRunner.Capture("dotnet",
            [Repository.Built("DePIN.Cli", "depin"), "ledger", .. args, .. args.Contains("--file") ? [] : new[] { "--api", cluster.Http.BaseAddress!.ToString() }],
            environment: new Dictionary<string, string> { ["DEPIN_API_KEY"] = apiKey ?? "" });

    private static JsonNode Json((int ExitCode, string Output, string Error) run) =>
        JsonNode.Parse(run.Output) ?? throw new JsonException($"depin printed no JSON: {run.Output}{run.Error}");
}
