namespace DePIN.Grains;

/// <summary>
/// The clock DePIN's own logic reads (liveness, staleness, lag). It is kept apart from the Orleans runtime's
/// <see cref="TimeProvider"/> so a test can drive node liveness with a fake clock without freezing the runtime.
/// </summary>
public sealed class PlatformClock(TimeProvider time)
{
    public static PlatformClock System { get; } = new(TimeProvider.System);

    public TimeProvider Time { get; } = time;

    public DateTimeOffset UtcNow => Time.GetUtcNow();
}
