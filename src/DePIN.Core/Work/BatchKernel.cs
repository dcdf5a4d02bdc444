using System.Buffers.Binary;
using System.Security.Cryptography;

namespace DePIN.Core.Work;

/// <summary>
/// The Batch workload: a SHA-256 hash chain over a seed. Step 0 is SHA-256("depin-batch-v1" ‖ seed ‖ shard), each
/// step hashes the last state, and the result is the state after the last step. It is deterministic, so every honest
/// node computing the same shard returns the same result and majority verification has something true to compare;
/// it is sequential, so a step count cannot be skipped; and its whole state is 32 bytes, so a checkpoint is small and
/// a replica can resume from one on another node.
/// </summary>
public static class BatchKernel
{
    /// <summary>A checkpoint blob: the step (8 bytes, little-endian) then the 32-byte state.</summary>
    public const int CheckpointBytes = 8 + StateBytes;

    private const int StateBytes = 32;
    private static ReadOnlySpan<byte> Domain => "depin-batch-v1"u8;

    /// <summary>The chain's state after <see cref="Step"/> steps.</summary>
    public readonly record struct Progress(long Step, byte[] State)
    {
        /// <summary>The state as a checkpoint blob.</summary>
        public byte[] ToCheckpoint()
        {
            var blob = new byte[CheckpointBytes];
            BinaryPrimitives.WriteInt64LittleEndian(blob, Step);
            State.CopyTo(blob, 8);
            return blob;
        }

        /// <summary>Lower-case hex of the state: the result, once the last step is taken.</summary>
        public string Hex => Convert.ToHexStringLower(State);
    }

    /// <summary>The state before the first step of a shard.</summary>
    public static Progress Start(ulong seed, int shard)
    {
        Span<byte> input = stackalloc byte[Domain.Length + 12];
        Domain.CopyTo(input);
        BinaryPrimitives.WriteUInt64LittleEndian(input[Domain.Length..], seed);
        BinaryPrimitives.WriteInt32LittleEndian(input[(Domain.Length + 8)..], shard);
        return new Progress(0, SHA256.HashData(input));
    }

    /// <summary>Where a run at <paramref name="step"/> stops next: its next checkpoint, or the end.</summary>
    public static long NextStop(long step, long checkpointEvery, long steps) =>
        checkpointEvery > 0 ? Math.Min(steps, ((step / checkpointEvery) + 1) * checkpointEvery) : steps;

    /// <summary>Whether a run that reached <paramref name="step"/> owes a checkpoint (never at the end: a result is due).</summary>
    public static bool AtCheckpoint(long step, long checkpointEvery, long steps) =>
        checkpointEvery > 0 && step % checkpointEvery == 0 && step < steps;

    /// <summary>Takes up to <paramref name="steps"/> more steps, stopping at <paramref name="until"/>.</summary>
    public static Progress Advance(Progress from, long steps, long until)
    {
        var end = Math.Min(until, from.Step + Math.Max(0, steps));
        Span<byte> current = stackalloc byte[StateBytes];
        Span<byte> next = stackalloc byte[StateBytes];
        from.State.CopyTo(current);
        for (var step = from.Step; step < end; step++)
        {
            SHA256.HashData(current, next);
            next.CopyTo(current);
        }

        return new Progress(Math.Max(end, from.Step), current.ToArray());
    }

    /// <summary>The whole chain at once: what a verifier recomputes.</summary>
    public static string Result(ulong seed, int shard, long steps) => Advance(Start(seed, shard), steps, steps).Hex;

    /// <summary>Reads a checkpoint blob; null when it is not one.</summary>
    public static Progress? FromCheckpoint(ReadOnlySpan<byte> blob) =>
        blob.Length == CheckpointBytes && BinaryPrimitives.ReadInt64LittleEndian(blob) is >= 0 and var step
            ? new Progress(step, blob[8..].ToArray())
            : null;

    /// <summary>The content hash of a blob, as checkpoints and results name it: lower-case hex SHA-256.</summary>
    public static string ContentHash(ReadOnlySpan<byte> blob) => Convert.ToHexStringLower(SHA256.HashData(blob));
}
