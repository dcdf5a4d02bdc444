namespace DePIN.Core.Nodes;

/// <summary>What the silence since a node's last batch says about it.</summary>
public enum Liveness
{
    Alive,
    Suspect,
    Offline,
}

/// <summary>
/// Liveness from silence: a node that sent nothing for <see cref="SuspectAfterIntervals"/> reporting intervals is
/// suspect, after <see cref="OfflineAfterIntervals"/> it is offline. Silence is measured on the platform's clock
/// from when the last batch arrived, never on the node's clock.
/// </summary>
public sealed record LivenessPolicy(TimeSpan Interval, int SuspectAfterIntervals = 3, int OfflineAfterIntervals = 6)
{
    public static LivenessPolicy Default { get; } = new(TimeSpan.FromSeconds(5));

    public TimeSpan SuspectAfter => Interval * SuspectAfterIntervals;

    public TimeSpan OfflineAfter => Interval * OfflineAfterIntervals;

    public Liveness Evaluate(DateTimeOffset lastHeardAt, DateTimeOffset now)
    {
        var silence = now - lastHeardAt;
        return silence >= OfflineAfter ? Liveness.Offline
            : silence >= SuspectAfter ? Liveness.Suspect
            : Liveness.Alive;
    }

    /// <summary>When the evaluation next changes if nothing arrives; null once the node is offline.</summary>
    public DateTimeOffset? NextChangeAt(DateTimeOffset lastHeardAt, DateTimeOffset now) =>
        Evaluate(lastHeardAt, now) switch
        {
            Liveness.Alive => lastHeardAt + SuspectAfter,
            Liveness.Suspect => lastHeardAt + OfflineAfter,
            _ => null,
        };

    /// <summary>Throws with a message naming the setting when the policy cannot work.</summary>
    public LivenessPolicy Validated()
    {
        if (Interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Interval), Interval, "The reporting interval must be positive.");
        }

        if (SuspectAfterIntervals < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(SuspectAfterIntervals), SuspectAfterIntervals, "Must be at least 1.");
        }

        if (OfflineAfterIntervals <= SuspectAfterIntervals)
        {
            throw new ArgumentOutOfRangeException(nameof(OfflineAfterIntervals), OfflineAfterIntervals,
                $"Must be greater than {nameof(SuspectAfterIntervals)} ({SuspectAfterIntervals}).");
        }

        return this;
    }
}
