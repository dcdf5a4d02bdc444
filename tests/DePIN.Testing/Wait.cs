using System.Diagnostics;

namespace DePIN.Testing;

/// <summary>Waits on a condition with a deadline; a timeout says what was awaited and what was last seen.</summary>
public static class Wait
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    public static async Task<T> Until<T>(
        Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var seen = await probe();
            if (done(seen))
            {
                return seen;
            }

            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"Waited {limit.TotalSeconds:0.#} s for {what}; last saw: {Describe(seen)}");
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        HttpResponseMessage response => $"HTTP {(int)response.StatusCode}",
        _ => value.ToString() ?? "?",
    };
}
