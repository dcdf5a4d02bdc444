namespace DePIN.Testing.Chaos;

/// <summary>What a chaos run does: how many silos, how long the load and the faults last, and the seed every random choice comes from.</summary>
/// <param name="Load">How long tenants, contributors and faults run; the fleet heartbeats on until the checks.</param>
/// <param name="Nodes">The simulated fleet; 30 % of it is killed while holding work.</param>
/// <param name="SiloKillGap">The mean pause between silo kills (each drawn from half to one and a half of it).</param>
/// <param name="JobsEnd">How long the run waits, after the load, for every acknowledged job to end.</param>
public sealed record ChaosSettings(
    int Silos,
    TimeSpan Load,
    int Seed,
    int Nodes = 48,
    int Contributors = 6,
    TimeSpan? SiloKillGap = null,
    TimeSpan? JobsEnd = null)
{
    /// <summary>Kernel steps of one replica: a fraction of a second of one core.</summary>
    public long Steps { get; init; } = 200_000;

    /// <summary>The pause between a tenant's submissions.</summary>
    public TimeSpan SubmitEvery { get; init; } = TimeSpan.FromSeconds(1.5);

    public TimeSpan KillGap => SiloKillGap ?? TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(20).Ticks, Load.Ticks / 6));

    public TimeSpan EndWait => JobsEnd ?? TimeSpan.FromMinutes(3);

    public int NodesToKill => (int)Math.Round(Nodes * 0.3);
}
