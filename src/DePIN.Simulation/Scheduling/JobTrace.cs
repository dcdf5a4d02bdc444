using DePIN.Core.Scheduling;

namespace DePIN.Simulation.Scheduling;

/// <summary>One simulated job: a gang of identical replicas needing <see cref="WorkHours"/> of progress.</summary>
public sealed record SimJob(
    int Index,
    string JobId,
    bool Training,
    int Replicas,
    Resources PerReplica,
    double SubmitAt,
    double WorkHours,
    double CheckpointHours,
    double RestartHours);

/// <summary>How the job mix is drawn.</summary>
/// <param name="Load">Offered GPU-hours as a share of the GPU-hours the fleet is up for during the arrival window.</param>
/// <param name="ArrivalsFrom">Start of the arrival window, hours from the trace's start.</param>
/// <param name="ArrivalsUntil">End of the arrival window.</param>
/// <param name="TrainingShare">Share of jobs that are gang training jobs; the rest are single-replica batch jobs.</param>
/// <param name="DailySwing">Amplitude of the daily submission cycle (peak 14:00 UTC) relative to the mean rate.</param>
public sealed record JobMix(double Load, double ArrivalsFrom, double ArrivalsUntil, double TrainingShare = 0.4, double DailySwing = 0.5);

/// <summary>
/// A deterministic job trace: gang training jobs of 2–32 one-GPU replicas lasting minutes to hours, and batch jobs,
/// arriving as a Poisson process whose volume offers the fleet <see cref="JobMix.Load"/> of its up GPU-hours. Submissions
/// follow a daily cycle, as in published cluster traces (Philly, Helios, Alibaba PAI): busy afternoons, quiet nights.
/// </summary>
public static class JobTrace
{
    public static IReadOnlyList<SimJob> Generate(JobMix mix, FleetTrace fleet, int seed)
    {
        var random = new Random(unchecked((seed * 31) + 7));
        var budget = mix.Load * fleet.GpuHoursUp(mix.ArrivalsFrom, mix.ArrivalsUntil);
        var shapes = new List<(bool Training, int Replicas, double Hours)>();
        double offered = 0;
        while (offered < budget)
        {
            var training = random.NextDouble() < mix.TrainingShare;
            var replicas = training ? random.Pick<int>([(2, 0.35), (4, 0.3), (8, 0.2), (16, 0.1), (32, 0.05)]) : 1;
            var hours = training
                ? Math.Clamp(random.LogNormal(1.0, 1.0), 1 / 6.0, 24)
                : Math.Clamp(random.LogNormal(0.25, 0.8), 1 / 30.0, 4);
            shapes.Add((training, replicas, hours));
            offered += replicas * hours;
        }

        // A Poisson process with a known count puts its arrivals independently by its rate's shape over the window;
        // thinning draws from the daily cycle.
        var times = shapes.Select(_ => Arrival(mix, random)).Order().ToArray();
        return shapes.Select((s, i) => new SimJob(
            i,
            $"job{i:D6}",
            s.Training,
            s.Replicas,
            s.Training ? new Resources(4, 16L << 30, 1) : new Resources(2, 8L << 30, 1),
            times[i],
            s.Hours,
            s.Training ? 0.25 : 1 / 6.0,
            s.Training ? 0.05 : 1 / 60.0)).ToList();
    }

    private static double Arrival(JobMix mix, Random random)
    {
        while (true)
        {
            var t = random.Uniform(mix.ArrivalsFrom, mix.ArrivalsUntil);
            var rate = 1 + (mix.DailySwing * Math.Sin(2 * Math.PI * ((t % 24) - 8) / 24));
            if (random.NextDouble() * (1 + mix.DailySwing) < rate)
            {
                return t;
            }
        }
    }
}
