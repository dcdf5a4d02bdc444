using DePIN.Grains.Nodes;
using DePIN.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Serialization;

namespace DePIN.Silo.Tests;

/// <summary>
/// The telemetry journal on a silo's migrated database, driven as two silos' journals would be by two activations of
/// one node's grain (briefly possible while the cluster's membership changes): the node's log grows from its newest
/// batch only, so neither activation can journal past a batch it has not applied.
/// </summary>
public sealed class TelemetryJournalTests(SiloOnPostgres cluster) : IClassFixture<SiloOnPostgres>, IAsyncDisposable
{
    private static readonly Serializer Serializer = new ServiceCollection()
        .AddSerializer(s => s.AddAssembly(typeof(NodeState).Assembly)).BuildServiceProvider().GetRequiredService<Serializer>();

    private readonly NpgsqlDataSource _first = NpgsqlDataSource.Create(cluster.ConnectionString);
    private readonly NpgsqlDataSource _second = NpgsqlDataSource.Create(cluster.ConnectionString);
    private readonly TestNode _node = TestNode.Create();
    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

    private PostgresTelemetryJournal? _a;
    private PostgresTelemetryJournal? _b;

    /// <summary>Two silos' journals on the one database.</summary>
    private PostgresTelemetryJournal A => _a ??= Journal(_first);

    private PostgresTelemetryJournal B => _b ??= Journal(_second);

    public async ValueTask DisposeAsync()
    {
        foreach (var journal in new[] { _a, _b }.OfType<PostgresTelemetryJournal>())
        {
            await journal.DisposeAsync();
        }

        await _first.DisposeAsync();
        await _second.DisposeAsync();
        _node.Dispose();
    }

    private static PostgresTelemetryJournal Journal(NpgsqlDataSource db) =>
        new(db, Serializer, Options.Create(new NodeOptions()), NullLogger<PostgresTelemetryJournal>.Instance);

    [Fact]
    public async Task An_activation_behind_the_nodes_newest_batch_is_refused_and_a_lost_answer_is_durable_on_retry()
    {
        var first = await A.Append(_node.Batch(1, _now), after: 0, _now);
        var fork = await B.Append(_node.Batch(2, _now), after: 0, _now); // B never saw batch 1
        var retry = await A.Append(_node.Batch(1, _now), after: 0, _now); // A's answer for batch 1 was lost: it asks again
        var next = await A.Append(_node.Batch(2, _now), after: 1, _now);
        var late = await B.Append(_node.Batch(3, _now), after: 0, _now);

        Assert.Equal(
            (Journaled.Durable, Journaled.Behind, Journaled.Durable, Journaled.Durable, Journaled.Behind),
            (first, fork, retry, next, late));
        Assert.Equal([1L, 2L], (await A.After(_node.Id, 0)).Select(j => j.Batch.Sequence));
    }

    [Fact]
    public async Task Two_activations_racing_for_one_node_keep_one_chain_of_every_batch_either_was_told_is_durable()
    {
        var durable = new List<long>();
        long last = 0;

        for (var round = 0; round < 50; round++)
        {
            // Both append their own next batch after the same last one, at once: exactly one may win.
            var (mine, theirs) = ((round * 2) + 1, (round * 2) + 2);
            var outcomes = await Task.WhenAll(A.Append(_node.Batch(mine, _now), last, _now), B.Append(_node.Batch(theirs, _now), last, _now));
            var winners = new[] { mine, theirs }.Where((_, i) => outcomes[i] == Journaled.Durable).ToArray();
            Assert.Single(winners);
            Assert.All(outcomes, o => Assert.NotEqual(Journaled.Unavailable, o));
            last = winners[0];
            durable.Add(last);
        }

        Assert.Equal(durable, (await B.After(_node.Id, 0)).Select(j => j.Batch.Sequence));
    }
}
