using DePIN.Abstractions;
using Orleans.Concurrency;

namespace DePIN.Grains.Jobs;

/// <summary>One shard of the scheduler's allocation ledger; key: shard number (see <see cref="AllocationLedger"/>).</summary>
[Alias("DePIN.IAllocationLedgerGrain")]
public interface IAllocationLedgerGrain : IGrainWithIntegerKey
{
    /// <summary>Records what a job holds; completes once durable.</summary>
    [Alias("Record")]
    Task Record(string jobKey, Allocation allocation);

    /// <summary>Forgets what a job held; completes once durable.</summary>
    [Alias("Remove")]
    Task Remove(string jobKey);

    [Alias("All")]
    ValueTask<Dictionary<string, Allocation>> All();
}

/// <summary>How the ledger is sharded: each write carries a sixty-fourth of the allocations, not all of them.</summary>
public static class AllocationLedger
{
    public const int Shards = 64;

    public static IAllocationLedgerGrain Shard(IGrainFactory grains, string jobKey) =>
        grains.GetGrain<IAllocationLedgerGrain>(PartitionHash.Fnv1a(jobKey) % Shards);

    public static async Task<Dictionary<string, Allocation>> Load(IGrainFactory grains)
    {
        var shards = await Task.WhenAll(Enumerable.Range(0, Shards).Select(i => grains.GetGrain<IAllocationLedgerGrain>(i).All().AsTask()));
        return shards.SelectMany(s => s).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
    }
}

[GenerateSerializer, Alias("DePIN.AllocationLedgerState")]
public sealed class AllocationLedgerState
{
    [Id(0)] public Dictionary<string, Allocation> Allocations { get; set; } = new(StringComparer.Ordinal);
}

[Reentrant]
public sealed class AllocationLedgerGrain(
    [PersistentState("ledger", StorageNames.Jobs)] IPersistentState<AllocationLedgerState> state)
    : Grain, IAllocationLedgerGrain
{
    private readonly GroupCommit _commit = new(state.WriteStateAsync);

    public Task Record(string jobKey, Allocation allocation)
    {
        state.State.Allocations[jobKey] = allocation;
        return _commit.Persist();
    }

    public Task Remove(string jobKey) => state.State.Allocations.Remove(jobKey) ? _commit.Persist() : Task.CompletedTask;

    public ValueTask<Dictionary<string, Allocation>> All() => ValueTask.FromResult(new Dictionary<string, Allocation>(state.State.Allocations, StringComparer.Ordinal));

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => _commit.Pending;
}
