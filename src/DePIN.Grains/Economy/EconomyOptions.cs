using DePIN.Core.Economy;

namespace DePIN.Grains.Economy;

/// <summary>The economy's terms and clocks; configuration section <c>Economy</c>. Amounts in credits.</summary>
public sealed class EconomyOptions
{
    public const string Section = "Economy";

    /// <summary>The platform's share of every lease payment, to the treasury.</summary>
    public double FeeShare { get; set; } = EconomyRules.Default.FeeShare;

    /// <summary>The availability bonus's share of a lease payment, before forecast and reputation scale it.</summary>
    public double BonusShare { get; set; } = EconomyRules.Default.BonusShare;

    /// <summary>Credits per accepted dataset record at quality 1 and reputation 1.</summary>
    public decimal RewardPerRecord { get; set; } = (decimal)EconomyRules.Default.RewardPerRecord / AccountId.PerCredit;

    /// <summary>Credits one offence takes from a node's stake.</summary>
    public decimal SlashAmount { get; set; } = (decimal)EconomyRules.Default.SlashAmount / AccountId.PerCredit;

    /// <summary>The harmed tenant's share of a slash.</summary>
    public double HarmedShare { get; set; } = EconomyRules.Default.HarmedShare;

    /// <summary>Expected loss (credits) a wrong result may cost before risk-priced verification adds copies.</summary>
    public decimal AcceptableLoss { get; set; } = (decimal)EconomyRules.Default.AcceptableLoss / AccountId.PerCredit;

    /// <summary>How often the scheduler moves each region's and class's rate.</summary>
    public TimeSpan RateInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often a dataset pays its contributors for the records accepted since it last did.</summary>
    public TimeSpan RewardInterval { get; set; } = TimeSpan.FromSeconds(10);

    public EconomyRules Rules => new(FeeShare, BonusShare, AccountId.Microcredits(RewardPerRecord), AccountId.Microcredits(SlashAmount),
        HarmedShare, AccountId.Microcredits(AcceptableLoss));

    public bool IsValid => FeeShare is >= 0 and <= 1 && BonusShare is >= 0 and <= 1 && HarmedShare is >= 0 and <= 1 &&
        RewardPerRecord >= 0 && SlashAmount >= 0 && AcceptableLoss >= 0 && RateInterval > TimeSpan.Zero && RewardInterval > TimeSpan.Zero;
}
