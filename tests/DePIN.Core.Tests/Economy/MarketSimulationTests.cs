using DePIN.Core.Economy;
using DePIN.Simulation.Economy;

namespace DePIN.Core.Tests.Economy;

/// <summary>The economy simulation on a small market: deterministic, every payment through a verified ledger, and what
/// the learnt rates do against a fixed one when supply is scarce.</summary>
public sealed class MarketSimulationTests
{
    // Providers who need the base rate to cover their costs, and demand that exceeds what it draws at peaks.
    private static readonly MarketModel Scarce = new(Nodes: 300, Days: 3, Load: 0.9);

    [Fact]
    public void A_seed_gives_the_same_market_twice_and_every_payment_verifies_with_supply_conserved()
    {
        var first = new MarketSimulation(Scarce, seed: 3);
        var again = new MarketSimulation(Scarce, seed: 3);

        var (a, b) = (first.Run(new PriceController()), again.Run(new PriceController()));
        var fixedRate = first.Run(controller: null);

        Assert.Equal(Describe(a), Describe(b));
        Assert.All([a, fixedRate], o => Assert.True(o.SupplyConserved && o.Refused == 0 && o.Postings > 1000, Describe(o)));
        Assert.All(fixedRate.FinalRates.Values, r => Assert.Equal(ResourceClass.BaseRate(ResourceClass.Gpu), r));
    }

    [Fact]
    public void Learnt_rates_keep_each_regions_utilisation_in_the_target_band_more_often_and_spread_income_more_evenly_than_a_fixed_rate()
    {
        var market = new MarketSimulation(Scarce, seed: 1);
        var controller = new PriceController();

        var fixedRate = market.Run(controller: null);
        var learnt = market.Run(controller);

        Assert.True(learnt.InBand > 2 * fixedRate.InBand, $"in band {learnt.InBand:0.000} against {fixedRate.InBand:0.000}");
        Assert.True(learnt.ProviderIncomeGini < fixedRate.ProviderIncomeGini, $"gini {learnt.ProviderIncomeGini:0.000} against {fixedRate.ProviderIncomeGini:0.000}");
        // What it costs, measured rather than assumed: tenants pay more per GPU-hour when supply is scarce.
        Assert.True(learnt.TenantCostPerGpuHour > fixedRate.TenantCostPerGpuHour);
    }

    [Theory]
    [InlineData(new double[] { 1, 1, 1, 1 }, 0)]
    [InlineData(new double[] { 0, 0, 0, 4 }, 0.75)]
    [InlineData(new double[] { 0, 0, 0, 0 }, 0)]
    public void The_gini_coefficient_is_zero_for_equal_incomes_and_grows_as_one_earns_everything(double[] incomes, double gini) =>
        Assert.Equal(gini, MarketSimulation.Gini(incomes), 10);

    private static string Describe(MarketOutcome o) =>
        $"{o.Pricing}: util {o.Utilisation:0.0000} band {o.InBand:0.0000} queue {o.MeanQueueHours:0.0000} wait {o.MeanWaitStartedHours:0.0000} gini {o.ProviderIncomeGini:0.0000} " +
        $"cost {o.TenantCostPerGpuHour:0.0000} conserved {o.SupplyConserved} jobs {o.Jobs} started {o.Started} gave up {o.GaveUp} postings {o.Postings} refused {o.Refused} " +
        string.Join(",", o.FinalRates.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}={r.Value}"));
}
