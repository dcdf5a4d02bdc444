using System.Security.Cryptography;
using System.Text;
using DePIN.Core.Work;

namespace DePIN.Core.Tests.Work;

public sealed class BatchKernelTests
{
    [Fact]
    public void The_chain_starts_from_the_seed_and_shard_and_hashes_the_state_each_step()
    {
        // Built by hand: "depin-batch-v1", then the seed and the shard little-endian.
        byte[] input = [.. Encoding.ASCII.GetBytes("depin-batch-v1"), 42, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0];
        var state = SHA256.HashData(input);
        for (var i = 0; i < 5; i++)
        {
            state = SHA256.HashData(state);
        }

        Assert.Equal(Convert.ToHexStringLower(state), BatchKernel.Result(42, 3, 5));
        Assert.NotEqual(BatchKernel.Result(42, 3, 5), BatchKernel.Result(42, 2, 5));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(777)]
    [InlineData(4999)]
    public void Resuming_from_a_checkpoint_at_any_step_gives_the_result_of_a_straight_run(long at)
    {
        var partial = BatchKernel.Advance(BatchKernel.Start(9, 1), at, at);
        var blob = partial.ToCheckpoint();
        var resumed = BatchKernel.FromCheckpoint(blob)!.Value;

        var chunked = resumed;
        while (chunked.Step < 5000)
        {
            chunked = BatchKernel.Advance(chunked, 333, 5000);
        }

        Assert.Equal((at, BatchKernel.CheckpointBytes), (resumed.Step, blob.Length));
        Assert.Equal(BatchKernel.Result(9, 1, 5000), chunked.Hex);
        Assert.Equal(5000, chunked.Step);
    }

    [Fact]
    public void A_blob_that_is_not_a_checkpoint_is_refused()
    {
        Assert.Null(BatchKernel.FromCheckpoint(new byte[BatchKernel.CheckpointBytes - 1]));
        var negative = new byte[BatchKernel.CheckpointBytes];
        negative[7] = 0x80;
        Assert.Null(BatchKernel.FromCheckpoint(negative));
    }

    [Fact]
    public void The_majority_wins_and_without_one_nothing_does()
    {
        var twoToOne = Verification.Majority(["a", "b", "a"]);
        var tie = Verification.Majority(["a", "b"]);

        Assert.Equal("a", twoToOne.Winner);
        Assert.Equal([0, 2], twoToOne.Agreed);
        Assert.Equal([1], twoToOne.Disagreed);
        Assert.Equal((null, 0, 0), (tie.Winner, tie.Agreed.Length, tie.Disagreed.Length));
        Assert.Equal("x", Verification.Combine(["x"]));
        Assert.Equal(64, Verification.Combine(["x", "y"]).Length);
    }

    [Fact]
    public void Trust_takes_eight_agreements_a_disagreement_costs_five_and_untrusted_nodes_get_more_copies()
    {
        Assert.Equal(0.5, Reputation.Score(0, 0));
        Assert.True(Reputation.Score(Reputation.TrustedAfter - 1, 0) < Reputation.Trusted);
        Assert.True(Reputation.Score(Reputation.TrustedAfter, 0) >= Reputation.Trusted);
        Assert.True(Reputation.Score(20, 1) < Reputation.Trusted);
        Assert.Equal(3, Reputation.Copies(1, adaptive: true, lowestReputation: 0.5));
        Assert.Equal(1, Reputation.Copies(1, adaptive: true, lowestReputation: 0.95));
        Assert.Equal(1, Reputation.Copies(1, adaptive: false, lowestReputation: 0.1));
        Assert.Equal(4, Reputation.Copies(3, adaptive: true, lowestReputation: 0.1));
    }
}
