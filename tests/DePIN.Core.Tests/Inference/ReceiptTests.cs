using DePIN.Core.Datasets;
using DePIN.Core.Identity;
using DePIN.Core.Inference;

namespace DePIN.Core.Tests.Inference;

public sealed class ReceiptTests
{
    private static readonly Dictionary<string, FieldValue> Input = new() { ["precipitation"] = FieldValue.Of(10.9), ["temp_max"] = FieldValue.Of(10.6) };
    private static readonly DateTimeOffset Day = new(2012, 1, 2, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_receipt_verifies_by_the_nodes_key_and_no_field_of_it_can_change()
    {
        using var node = NodeSigner.Create();
        var inputHash = InferenceReceipt.HashInput(new string('a', 64), Day, 47.6, -122.3, Input);
        var receipt = InferenceReceipt.Sign(new string('a', 64), inputHash, "rain", [0.1f, 0.9f], Day.AddMilliseconds(1234.5), node);

        Assert.True(receipt.Verify());
        Assert.True(receipt.Verify(Convert.ToBase64String(node.PublicKey)));
        Assert.False((receipt with { Answer = "sun" }).Verify());
        Assert.False((receipt with { ModelHash = new string('b', 64) }).Verify());
        Assert.False((receipt with { InputHash = InferenceReceipt.HashInput(new string('a', 64), Day, 47.6, -122.3, new Dictionary<string, FieldValue>()) }).Verify());
        Assert.False((receipt with { Probabilities = [0.9f, 0.1f] }).Verify());
        Assert.False((receipt with { At = receipt.At.AddSeconds(1) }).Verify());

        // Another node's key: neither under the receipt's node id nor as the key the caller trusts.
        using var other = NodeSigner.Create();
        Assert.False((receipt with { PublicKey = Convert.ToBase64String(other.PublicKey) }).Verify());
        Assert.False(receipt.Verify(Convert.ToBase64String(other.PublicKey)));
        var forged = InferenceReceipt.Sign(receipt.ModelHash, receipt.InputHash, receipt.Answer, receipt.Probabilities, receipt.At, other);
        Assert.False((forged with { NodeId = node.NodeId }).Verify());
    }

    [Fact]
    public void The_input_hash_is_the_same_for_the_same_input_in_any_order_and_differs_for_another()
    {
        var model = new string('c', 64);
        var reordered = new Dictionary<string, FieldValue> { ["temp_max"] = FieldValue.Of(10.6), ["precipitation"] = FieldValue.Of(10.9) };

        Assert.Equal(InferenceReceipt.HashInput(model, Day, 47.6, -122.3, Input), InferenceReceipt.HashInput(model, Day, 47.6, -122.3, reordered));
        Assert.NotEqual(InferenceReceipt.HashInput(model, Day, 47.6, -122.3, Input), InferenceReceipt.HashInput(model, Day.AddDays(1), 47.6, -122.3, Input));
        Assert.NotEqual(InferenceReceipt.HashInput(model, Day, 47.6, -122.3, Input), InferenceReceipt.HashInput(new string('d', 64), Day, 47.6, -122.3, Input));
    }
}
