namespace DePIN.Core.Economy;

/// <summary>What an account is for; it decides who may see it and whether it may go below zero.</summary>
public enum AccountKind
{
    /// <summary>The world outside the ledger: deposits come from it and withdrawals go to it, so it alone runs negative.</summary>
    External,

    /// <summary>The platform's own funds: fees on leases come in, availability bonuses and contribution rewards go out.</summary>
    Treasury,

    /// <summary>What slashing keeps after the harmed tenant's share.</summary>
    SlashingPool,

    /// <summary>A tenant's funds, not yet committed to a job.</summary>
    Tenant,

    /// <summary>One job's escrow: funded at submission, paid out as leases, the rest refunded at the end.</summary>
    Escrow,

    /// <summary>What a node's provider has earned and may withdraw.</summary>
    Provider,

    /// <summary>The stake a node posted: locked while it takes work, slashed when it cheats or abandons a lease.</summary>
    Stake,

    /// <summary>What a node has earned by contributing dataset records.</summary>
    Contributor,
}

/// <summary>
/// Account ids. System accounts have fixed names; the others are <c>{kind}:{owner}</c>, e.g. <c>tenant:acme</c>,
/// <c>escrow:acme:train-42</c>, <c>provider:{node id}</c>, <c>stake:{node id}</c>, <c>contributor:{node id}</c>.
/// Tenant names, job ids and node ids cannot contain ':', so an id names exactly one owner.
/// </summary>
public static class AccountId
{
    public const string External = "external";
    public const string Treasury = "treasury";
    public const string SlashingPool = "slashing-pool";

    /// <summary>The one currency unit: microcredits (a credit is 1,000,000).</summary>
    public const string Unit = "ucr";

    /// <summary>Microcredits in a credit.</summary>
    public const long PerCredit = 1_000_000;

    /// <summary>Longest account id.</summary>
    public const int MaxLength = 200;

    public static string Tenant(string tenant) => $"tenant:{tenant}";

    public static string Escrow(string tenant, string jobId) => $"escrow:{tenant}:{jobId}";

    public static string Provider(string nodeId) => $"provider:{nodeId}";

    public static string Stake(string nodeId) => $"stake:{nodeId}";

    public static string Contributor(string nodeId) => $"contributor:{nodeId}";

    /// <summary>The kind an id names, or null when it is not an account id.</summary>
    public static AccountKind? KindOf(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength)
        {
            return null;
        }

        switch (id)
        {
            case External: return AccountKind.External;
            case Treasury: return AccountKind.Treasury;
            case SlashingPool: return AccountKind.SlashingPool;
        }

        var colon = id.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return null;
        }

        var rest = id.AsSpan(colon + 1);
        return id[..colon] switch
        {
            "tenant" when IsName(rest) => AccountKind.Tenant,
            "escrow" when rest.IndexOf(':') is > 0 and var split && IsName(rest[..split]) && IsName(rest[(split + 1)..]) => AccountKind.Escrow,
            "provider" when IsName(rest) => AccountKind.Provider,
            "stake" when IsName(rest) => AccountKind.Stake,
            "contributor" when IsName(rest) => AccountKind.Contributor,
            _ => null,
        };
    }

    /// <summary>The tenant whose account this is (tenant and escrow accounts); null for every other kind.</summary>
    public static string? TenantOf(string id) => KindOf(id) switch
    {
        AccountKind.Tenant => id["tenant:".Length..],
        AccountKind.Escrow => id["escrow:".Length..].Split(':')[0],
        _ => null,
    };

    /// <summary>The node whose account this is (provider, stake and contributor accounts); null otherwise.</summary>
    public static string? NodeOf(string id) => KindOf(id) is AccountKind.Provider or AccountKind.Stake or AccountKind.Contributor
        ? id[(id.IndexOf(':', StringComparison.Ordinal) + 1)..]
        : null;

    /// <summary>Only the outside world runs a negative balance: every other account holds what was paid into it.</summary>
    public static bool MayGoNegative(AccountKind kind) => kind == AccountKind.External;

    /// <summary>Credits in microcredits, rounded down (a payment never exceeds what the price says).</summary>
    public static long Microcredits(decimal credits) =>
        credits <= 0 ? 0 : credits >= long.MaxValue / PerCredit ? long.MaxValue : (long)decimal.Floor(credits * PerCredit);

    // Letters, digits and '-', '_', '.': what tenant names, job ids and node ids are made of.
    private static bool IsName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
