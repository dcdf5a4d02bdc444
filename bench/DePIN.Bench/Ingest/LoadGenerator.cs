using System.Diagnostics;

namespace DePIN.Bench.Ingest;

/// <summary>
/// A fixed number of workers, each with its own keep-alive connection, posting its own nodes' batches: back to back
/// (closed loop), or, given a <paramref name="rate"/> in batches a second for all workers together, each on a
/// schedule of its share of it (open loop; a worker that falls behind sends at once until it catches up).
/// </summary>
public sealed class LoadGenerator(System.Net.IPEndPoint silo, BenchNode[] nodes, int workers, double rate = 0)
{
    public sealed record Window(TimeSpan Elapsed, long Accepted, long Refused);

    public async Task<Window> Run(TimeSpan duration)
    {
        long accepted = 0, refused = 0;
        var clock = Stopwatch.StartNew();
        // Worker w owns nodes w, w + workers, ...: each node's sequence numbers stay strictly increasing.
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async worker =>
        {
            var mine = nodes.Where((_, i) => i % workers == worker).ToArray();
            if (mine.Length == 0)
            {
                return;
            }

            using var connection = await RawHttpConnection.Open(silo);
            long ok = 0, failed = 0;
            var period = rate > 0 ? TimeSpan.FromSeconds(workers / rate) : TimeSpan.Zero;
            for (var i = 0; clock.Elapsed < duration; i++)
            {
                if (period > TimeSpan.Zero && period * i - clock.Elapsed is { Ticks: > 0 } early)
                {
                    await Task.Delay(early);
                }

                if (await mine[i % mine.Length].SendNext(connection))
                {
                    ok++;
                }
                else
                {
                    failed++;
                }
            }

            Interlocked.Add(ref accepted, ok);
            Interlocked.Add(ref refused, failed);
        }));
        return new Window(clock.Elapsed, accepted, refused);
    }
}
