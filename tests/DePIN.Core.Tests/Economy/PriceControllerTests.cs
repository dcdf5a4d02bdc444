using DePIN.Core.Economy;

namespace DePIN.Core.Tests.Economy;

public sealed class PriceControllerTests
{
    private static readonly long Base = ResourceClass.BaseRate(ResourceClass.Gpu);

    private static MarketObservation Seen(double used, double waiting = 0, double pricedOut = 0) =>
        new("eu-west", ResourceClass.Gpu, 100, used, waiting, pricedOut);

    [Fact]
    public void The_rate_rises_above_the_band_falls_below_it_and_rests_inside()
    {
        var prices = new PriceController();

        Assert.Equal((long)(Base * 1.125), prices.Next(Base, Seen(used: 100, waiting: 50))); // a full step at most
        Assert.True(prices.Next(Base, Seen(used: 90)) is var up && up > Base && up < Base * 1.125);
        Assert.Equal(Base, prices.Next(Base, Seen(used: 70)));
        Assert.Equal((long)(Base * 0.875), prices.Next(Base, Seen(used: 0, pricedOut: 500)));
        Assert.Equal(Base, prices.Next(Base, new MarketObservation("eu-west", ResourceClass.Gpu, 0, 0, 0, 10))); // no supply, none can pay: hold
    }

    [Fact]
    public void A_region_whose_providers_all_left_raises_its_rate_while_demand_that_could_pay_waits_there()
    {
        var prices = new PriceController();
        MarketSupply[] fleet = [new("a", 8, 1, 0, 0)];

        // A job that names region b is demand there though b supplies nothing: b gets an observation, and its rate rises.
        var observed = Market.Observe(fleet, [new MarketDemand(["b"], ResourceClass.Gpu, 1, 2, 2 * Base)], (_, c) => ResourceClass.BaseRate(c));

        Assert.Contains(new MarketObservation("b", "gpu", 0, 0, 2, 0), observed);
        Assert.Equal((long)(Base * 1.125), prices.Next(Base, observed.Single(o => o.Region == "b")));
    }

    [Fact]
    public void The_rate_stays_within_its_bounds_however_long_the_pressure_lasts()
    {
        var prices = new PriceController();
        long high = Base, low = Base;
        for (var i = 0; i < 200; i++)
        {
            high = prices.Next(high, Seen(used: 100, waiting: 100));
            low = prices.Next(low, Seen(used: 0));
        }

        Assert.Equal(Base * 10, high);
        Assert.Equal(Base / 10, low);
    }

    [Fact]
    public void Demand_is_split_over_the_regions_a_job_may_use_by_whether_it_can_pay_there()
    {
        MarketSupply[] fleet = [new("a", 16, 4, 8, 2), new("b", 16, 0, 0, 0)];
        long Rate(string region, string resourceClass) => region == "a" ? 2 * ResourceClass.BaseRate(resourceClass) : ResourceClass.BaseRate(resourceClass);
        var cpuCap = ResourceClass.BaseRate(ResourceClass.Cpu) * 2; // pays b's rate for 2 cores, not a's

        var observed = Market.Observe(fleet, [new MarketDemand([], ResourceClass.Cpu, 2, 4, cpuCap)], Rate);

        Assert.Equal(
            [new MarketObservation("a", "cpu", 16, 8, 0, 4), new MarketObservation("a", "gpu", 4, 2, 0, 0), new MarketObservation("b", "cpu", 16, 0, 4, 0)],
            observed);
        Assert.Equal(["b"], Market.Affordable([], ["a", "b"], ResourceClass.Cpu, 2, cpuCap, Rate));
        Assert.Null(Market.Affordable(["b"], ["a", "b"], ResourceClass.Cpu, 2, cpuCap, Rate));
        Assert.Empty(Market.Affordable(["a"], ["a", "b"], ResourceClass.Cpu, 2, cpuCap, Rate)!);
    }
}
