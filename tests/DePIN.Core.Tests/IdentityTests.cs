using System.Text;
using DePIN.Core.Identity;

namespace DePIN.Core.Tests;

public sealed class IdentityTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("f", "my")]
    [InlineData("fo", "mzxq")]
    [InlineData("foo", "mzxw6")]
    [InlineData("foob", "mzxw6yq")]
    [InlineData("fooba", "mzxw6ytb")]
    [InlineData("foobar", "mzxw6ytboi")]
    public void Base32_matches_the_RFC_4648_test_vectors_in_lower_case_without_padding(string text, string expected) =>
        Assert.Equal(expected, Base32.Encode(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void Signatures_match_RFC_8032_test_vector_1()
    {
        // RFC 8032 section 7.1, TEST 1: the empty message.
        using var signer = NodeSigner.Import(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));

        Assert.Equal("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", Convert.ToHexStringLower(signer.PublicKey));
        Assert.Equal(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            Convert.ToHexStringLower(signer.Sign([])));
    }

    [Fact]
    public void A_node_id_is_derived_from_the_public_key_alone()
    {
        using var signer = NodeSigner.Create();
        using var same = NodeSigner.Import(signer.ExportPrivateKey());
        using var other = NodeSigner.Create();

        Assert.Equal(signer.NodeId, NodeIdentity.DeriveNodeId(signer.PublicKey));
        Assert.Equal(signer.NodeId, same.NodeId);
        Assert.NotEqual(signer.NodeId, other.NodeId);
        Assert.True(NodeIdentity.IsWellFormedNodeId(signer.NodeId));
        Assert.Equal(NodeIdentity.NodeIdLength, signer.NodeId.Length);
    }

    [Fact]
    public void Verification_accepts_the_signers_signature_and_nothing_else()
    {
        using var signer = NodeSigner.Create();
        using var other = NodeSigner.Create();
        var data = Encoding.UTF8.GetBytes("""{"sequence":1}""");
        var signature = signer.Sign(data);
        var key = NodeIdentity.TryImportPublicKey(signer.PublicKey)!;

        Assert.True(NodeIdentity.Verify(key, data, signature));
        Assert.False(NodeIdentity.Verify(key, Encoding.UTF8.GetBytes("""{"sequence":2}"""), signature));
        Assert.False(NodeIdentity.Verify(key, data, other.Sign(data)));
        Assert.False(NodeIdentity.Verify(key, data, signature[..63]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")]
    [InlineData("abcdefghijklmnopqrstuvwxyz01234!")]
    public void Malformed_node_ids_are_recognised(string id) => Assert.False(NodeIdentity.IsWellFormedNodeId(id));

    [Fact]
    public void A_public_key_of_the_wrong_length_is_not_imported()
    {
        Assert.Null(NodeIdentity.TryImportPublicKey(new byte[31]));
        Assert.Throws<ArgumentException>(() => NodeIdentity.DeriveNodeId(new byte[33]));
    }
}
