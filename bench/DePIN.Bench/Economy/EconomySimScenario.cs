using System.Diagnostics;
using System.Text.Json.Nodes;
using DePIN.Core.Economy;
using DePIN.Simulation.Economy;

namespace DePIN.Bench.Economy;

/// <summary>Settings of <c>economy-sim</c>.</summary>
public sealed record EconomySimSettings(int Seed, int Nodes, int Days, double Load, double ProviderCost);

/// <summary>
/// Fixed against learnt lease rates on one market (<see cref="MarketSimulation"/>: the churn trace's machines, their
/// providers' costs, the tenants' jobs with caps and patience, a surge on the third day), in virtual time and
/// deterministic for a seed. Prints each pricing's figures side by side, and learnt ÷ fixed.
/// </summary>
public static class EconomySimScenario
{
    public static JsonObject Run(EconomySimSettings s, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var model = new MarketModel(Nodes: s.Nodes, Days: s.Days, Load: s.Load, ProviderCostMedian: s.ProviderCost);
        var market = new MarketSimulation(model, s.Seed);
        var fixedRate = market.Run(controller: null);
        log.WriteLine($"economy-sim: fixed rate run in {clock.Elapsed.TotalSeconds:0.0} s");
        var controller = new PriceController();
        var learnt = market.Run(controller);
        log.WriteLine($"economy-sim: learnt rates run in {clock.Elapsed.TotalSeconds:0.0} s");

        static double Ratio(double learnt, double baseline) => baseline == 0 ? 0 : Math.Round(learnt / baseline, 3);
        return new JsonObject
        {
            ["scenario"] = "economy-sim",
            ["seed"] = s.Seed,
            ["nodes"] = market.Nodes.Count,
            ["days"] = s.Days,
            ["load"] = s.Load,
            ["provider_cost_median"] = s.ProviderCost,
            ["target_band"] = new JsonArray(controller.Options.TargetLow, controller.Options.TargetHigh),
            ["fixed"] = Json(fixedRate),
            ["learnt"] = Json(learnt),
            ["learnt_over_fixed"] = new JsonObject
            {
                ["utilisation"] = Ratio(learnt.Utilisation, fixedRate.Utilisation),
                ["mean_queue_h"] = Ratio(learnt.MeanQueueHours, fixedRate.MeanQueueHours),
                ["provider_income_gini"] = Ratio(learnt.ProviderIncomeGini, fixedRate.ProviderIncomeGini),
                ["tenant_cost"] = Ratio(learnt.TenantCostPerGpuHour, fixedRate.TenantCostPerGpuHour),
                ["served_gpu_hours"] = Ratio(learnt.ServedGpuHours, fixedRate.ServedGpuHours),
            },
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
    }

    private static JsonObject Json(MarketOutcome o) => new()
    {
        ["utilisation"] = Math.Round(o.Utilisation, 4),
        ["in_band"] = Math.Round(o.InBand, 4),
        ["mean_queue_h"] = Math.Round(o.MeanQueueHours, 3),
        ["mean_wait_started_h"] = Math.Round(o.MeanWaitStartedHours, 3),
        ["provider_income_gini"] = Math.Round(o.ProviderIncomeGini, 4),
        ["tenant_cost"] = Math.Round(o.TenantCostPerGpuHour, 4),
        ["tenant_cost_unit"] = "credits per GPU-hour",
        ["supply_conserved"] = o.SupplyConserved,
        ["jobs"] = o.Jobs,
        ["started"] = o.Started,
        ["gave_up"] = o.GaveUp,
        ["served_gpu_hours"] = Math.Round(o.ServedGpuHours, 1),
        ["offered_gpu_hours"] = Math.Round(o.OfferedGpuHours, 1),
        ["postings"] = o.Postings,
        ["refused_postings"] = o.Refused,
        ["final_rates"] = new JsonObject(o.FinalRates.OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => KeyValuePair.Create(r.Key, (JsonNode?)Math.Round(r.Value / (double)AccountId.PerCredit, 4)))),
    };
}
