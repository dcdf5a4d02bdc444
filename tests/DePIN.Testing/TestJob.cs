using DePIN.Abstractions.Jobs;

namespace DePIN.Testing;

/// <summary>
/// Job specs for tests: a ten-minute batch gang with small replicas whose kernel takes <see cref="Steps"/> steps per
/// replica (milliseconds of work), checkpointing every tenth of them; adjust with <c>with</c>.
/// </summary>
public static class TestJob
{
    public static JobSpec Spec(int replicas = 2, int cpuCores = 2, int gpus = 0) => new(
        JobKind.Batch,
        new ReplicaResources(cpuCores, 4L << 30, gpus, 0),
        replicas,
        JobConstraints.None,
        Priority: 10,
        EstimatedSeconds: 600,
        CheckpointSeconds: 60,
        new VerificationPolicy(1, Adaptive: false),
        MaxPricePerReplicaHour: 1.5m,
        new BatchWork(Seed: 7, Steps));

    public const long Steps = 20_000;
}
