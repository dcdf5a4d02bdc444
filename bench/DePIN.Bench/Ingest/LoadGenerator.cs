using System.Buffers.Text;
using System.Diagnostics;
using DePIN.Abstractions.Telemetry;

namespace DePIN.Bench.Ingest;

/// <summary>
/// A fixed number of workers, each with its own keep-alive connection, posting its own nodes' batches: back to back
/// (closed loop), or, given a <paramref name="rate"/> in batches a second for all workers together, each on a
/// schedule of its share of it (open loop; a worker that falls behind sends at once until it catches up). With
/// <paramref name="relay"/> above 1 each worker is a relay: every request carries the next <paramref name="relay"/>
/// batches of its nodes to <c>/v1/telemetry</c>, each signed by its node.
/// </summary>
public sealed class LoadGenerator(System.Net.IPEndPoint silo, BenchNode[] nodes, int workers, double rate = 0, int relay = 1)
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
            var period = rate > 0 ? TimeSpan.FromSeconds(workers * relay / rate) : TimeSpan.Zero;
            for (var i = 0; clock.Elapsed < duration; i++)
            {
                if (period > TimeSpan.Zero && period * i - clock.Elapsed is { Ticks: > 0 } early)
                {
                    await Task.Delay(early);
                }

                var taken = relay == 1 ? (await mine[i % mine.Length].SendNext(connection) ? 1 : 0) : await Relay(connection, mine, i);
                ok += taken;
                failed += relay - taken;
            }

            Interlocked.Add(ref accepted, ok);
            Interlocked.Add(ref refused, failed);
        }));
        return new Window(clock.Elapsed, accepted, refused);
    }

    /// <summary>Request <paramref name="request"/> of a relay: the next batches of its nodes; how many were taken.</summary>
    private async Task<int> Relay(RawHttpConnection connection, BenchNode[] mine, int request)
    {
        var batches = new SignedBatch[relay];
        for (var j = 0; j < relay; j++)
        {
            batches[j] = mine[(request * relay + j) % mine.Length].NextSigned();
        }

        return await connection.Post(RelayedTelemetry.Path, RelayedTelemetry.Envelope(batches), ReadOnlyMemory<byte>.Empty) switch
        {
            202 => relay,
            207 => Accepted(connection.LastBody),
            _ => 0,
        };
    }

    // 207: {"accepted":N,"results":[...]} (chunk framing before it, if any).
    private static int Accepted(ReadOnlySpan<byte> body)
    {
        var key = "\"accepted\":"u8;
        var at = body.IndexOf(key);
        return at >= 0 && Utf8Parser.TryParse(body[(at + key.Length)..], out int accepted, out _) ? accepted : 0;
    }
}
