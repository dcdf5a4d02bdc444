using System.Security.Cryptography;
using DePIN.Abstractions;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Jobs;
using DePIN.Core.Economy;

namespace DePIN.Grains.Jobs;

[GenerateSerializer, Alias("DePIN.TenantState")]
public sealed class TenantState
{
    [Id(0)] public List<byte[]> KeyHashes { get; set; } = [];
    [Id(1)] public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A tenant and the hashes of its API keys.</summary>
public sealed class TenantGrain(
    [PersistentState("tenant", StorageNames.Jobs)] IPersistentState<TenantState> state,
    PlatformClock clock)
    : Grain, ITenantGrain
{
    public async Task<bool> Create(byte[] keyHash)
    {
        if (state.State.KeyHashes.Count > 0)
        {
            return false;
        }

        // The tenant's account first: a tenant that exists can always be funded.
        await GrainFactory.GetGrain<ILedgerGrain>(0).Open([AccountId.Tenant(this.GetPrimaryKeyString())]);
        state.State.KeyHashes.Add(keyHash);
        state.State.CreatedAt = clock.UtcNow;
        await state.WriteStateAsync();
        return true;
    }

    public ValueTask<bool> Accepts(byte[] keyHash)
    {
        var match = false;
        foreach (var known in state.State.KeyHashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(known, keyHash);
        }

        return ValueTask.FromResult(match);
    }
}
