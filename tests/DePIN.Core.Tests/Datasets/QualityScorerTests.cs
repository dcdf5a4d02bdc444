using DePIN.Core.Datasets;

namespace DePIN.Core.Tests.Datasets;

public sealed class QualityScorerTests
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_station_that_reads_far_from_its_neighbours_loses_score_and_is_quarantined_while_they_keep_theirs()
    {
        var scorer = new QualityScorer();
        var floors = new Dictionary<string, double> { ["temp"] = 0.2 };
        QualityVerdict last = null!;
        for (var hour = 0; hour < 40; hour++)
        {
            var at = Start.AddHours(hour);
            var truth = 15 + (5 * Math.Sin(hour / 4.0));
            // Three honest stations within 20 km of each other, with sensor noise; one 10 °C off, always.
            scorer.Observe("a", at, 47.60, -122.33, Reading(truth + 0.1), floors);
            scorer.Observe("b", at, 47.65, -122.30, Reading(truth - 0.2), floors);
            scorer.Observe("c", at, 47.55, -122.40, Reading(truth + 0.3), floors);
            last = scorer.Observe("liar", at, 47.62, -122.35, Reading(truth + 10), floors);
        }

        Assert.Equal(["temp"], last.Outliers);
        Assert.True(last.Quarantined);
        Assert.True(scorer.IsQuarantined("liar"));
        Assert.InRange(scorer.Score("liar"), 0, 0.1);
        Assert.All(new[] { "a", "b", "c" }, s => Assert.InRange(scorer.Score(s), 0.9, 1));
        Assert.Equal(1, scorer.QuarantinedCount);
    }

    [Fact]
    public void A_quarantined_station_that_reads_true_again_is_released_past_the_higher_bar()
    {
        var scorer = new QualityScorer();
        var floors = new Dictionary<string, double> { ["temp"] = 0.2 };
        var changes = new List<(int Hour, bool Quarantined)>();
        for (var hour = 0; hour < 200; hour++)
        {
            var at = Start.AddHours(hour);
            scorer.Observe("a", at, 47.60, -122.33, Reading(15), floors);
            scorer.Observe("b", at, 47.65, -122.30, Reading(15.1), floors);
            var verdict = scorer.Observe("fixed", at, 47.62, -122.35, Reading(hour < 30 ? 40 : 15.05), floors);
            if (verdict.QuarantineChanged)
            {
                changes.Add((hour, verdict.Quarantined));
            }
        }

        Assert.Equal(2, changes.Count);
        Assert.True(changes[0].Quarantined);
        Assert.InRange(changes[0].Hour, 9, 29);
        Assert.False(changes[1].Quarantined);
        Assert.True(scorer.Score("fixed") > 0.7);
    }

    [Fact]
    public void Without_enough_peers_nearby_and_in_time_nothing_is_checked()
    {
        var scorer = new QualityScorer();
        scorer.Observe("seattle", Start, 47.6, -122.3, Reading(15));
        scorer.Observe("portland", Start, 45.5, -122.7, Reading(16)); // 235 km away
        scorer.Observe("seattle-later", Start.AddHours(3), 47.6, -122.3, Reading(15)); // outside the hour

        var alone = scorer.Observe("tacoma", Start, 47.25, -122.44, Reading(99)); // one peer within 50 km

        Assert.Equal(0, alone.Checked);
        Assert.Empty(alone.Outliers);
        Assert.Equal(0.5, scorer.Score("tacoma"));
    }

    [Fact]
    public void Peers_are_found_across_the_antimeridian()
    {
        var scorer = new QualityScorer();
        scorer.Observe("west", Start, -17.8, 179.9, Reading(25));
        scorer.Observe("east", Start, -17.8, -179.9, Reading(25.1));

        var verdict = scorer.Observe("fiji", Start, -17.8, 179.95, Reading(35));

        Assert.Equal((1, "temp"), (verdict.Checked, verdict.Outliers.Single()));
    }

    private static Dictionary<string, double> Reading(double temp) => new() { ["temp"] = temp };
}
