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

    /// <summary>
    /// Forgets what a job held up to attempt <paramref name="attempt"/>; completes once durable. A later attempt's record
    /// stays: the removal of an attempt's record can arrive after the next attempt was recorded.
    /// </summary>
    [Alias("Remove")]
    Task Remove(string jobKey, int attempt);

    [Alias("All")]
    ValueTask<Dictionary<string, Allocation>> All();
}

/// <summary>
/// How the ledger is sharded. A shard is written whole on every change, so its size is what a placement costs to
/// make durable: with 512 shards a ledger of 35,000 allocations writes about 70 a time (with 64 it was 550, and
/// serializing them was the largest cost of a placement).
/// </summary>
public static class AllocationLedger
{
    public const int Shards = 512;

    public static int Home(string jobKey) => (int)(PartitionHash.Fnv1a(jobKey) % Shards);

    public static IAllocationLedgerGrain Shard(IGrainFactory grains, string jobKey) => Shard(grains, Home(jobKey));

    private static IAllocationLedgerGrain Shard(IGrainFactory grains, int shard) => grains.Ref<IAllocationLedgerGrain>(shard);

    /// <summary>
    /// Every allocation. One found outside its home shard (recorded under an earlier shard count) is moved home first,
    /// recorded there before it is removed where it was, so that a later <see cref="IAllocationLedgerGrain.Remove"/>
    /// finds it and a crash in between loses nothing.
    /// </summary>
    public static async Task<Dictionary<string, Allocation>> Load(IGrainFactory grains)
    {
        var shards = await Task.WhenAll(Enumerable.Range(0, Shards).Select(i => Shard(grains, i).All().AsTask()));
        var all = new Dictionary<string, Allocation>(StringComparer.Ordinal);
        var strays = new List<(int Shard, string JobKey, Allocation Allocation)>();
        for (var i = 0; i < shards.Length; i++)
        {
            foreach (var (jobKey, allocation) in shards[i])
            {
                if (Home(jobKey) == i)
                {
                    all[jobKey] = allocation;
                }
                else
                {
                    strays.Add((i, jobKey, allocation));
                }
            }
        }

        foreach (var (shard, jobKey, allocation) in strays)
        {
            if (all.TryAdd(jobKey, allocation))
            {
                await Shard(grains, jobKey).Record(jobKey, allocation);
            }

            await Shard(grains, shard).Remove(jobKey, allocation.Attempt);
        }

        return all;
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

    public Task Remove(string jobKey, int attempt) =>
        state.State.Allocations.TryGetValue(jobKey, out var held) && held.Attempt <= attempt && state.State.Allocations.Remove(jobKey)
            ? _commit.Persist()
            : Task.CompletedTask;

    public ValueTask<Dictionary<string, Allocation>> All() => ValueTask.FromResult(new Dictionary<string, Allocation>(state.State.Allocations, StringComparer.Ordinal));

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => _commit.Pending;
}
