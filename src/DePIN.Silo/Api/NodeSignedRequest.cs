using DePIN.Abstractions.Http;
using DePIN.Core.Identity;
using DePIN.Grains.Diagnostics;
using DePIN.Silo.Nodes;

namespace DePIN.Silo.Api;

/// <summary>A request from a registered node's agent: its body, read whole and checked against the node's key.</summary>
public static class NodeSignedRequest
{
    /// <summary>
    /// The verified body, or the problem to answer with and the reject reason to count: 404 for an unknown node,
    /// 413 past the limit, 401 for a bad signature, 429 when the node is over its rate (charged only once the
    /// signature verified, so nobody spends a node's allowance in its name).
    /// </summary>
    public static async Task<(SignedBody? Body, IResult? Problem, string? Reason)> Read(
        string nodeId, HttpRequest request, int limit, NodeKeyCache keys, CancellationToken cancellationToken)
    {
        if (!NodeIdentity.IsWellFormedNodeId(nodeId))
        {
            return (null, Problems.UnknownNode(nodeId), RejectReasons.UnknownNode);
        }

        var body = await SignedBody.Read(request, limit, cancellationToken);
        if (body is null)
        {
            return (null, Problems.Oversize(limit), RejectReasons.Oversize);
        }

        var problem = await Verify(nodeId, body.Memory, body.Signature, keys,
            $"The {ApiJson.SignatureHeader} header must hold the base64 Ed25519 signature of the exact body, made with node {nodeId}'s key.");
        if (problem is null && request.HttpContext.RequestServices.GetRequiredService<RateLimits>().Node(nodeId, request.HttpContext.Response) is { } limited)
        {
            problem = (limited, RejectReasons.RateLimited);
        }

        if (problem is { } refused)
        {
            body.Dispose();
            return (null, refused.Item1, refused.Item2);
        }

        return (body, null, null);
    }

    /// <summary>
    /// Null when <paramref name="signature"/> is node <paramref name="nodeId"/>'s signature of <paramref name="bytes"/>;
    /// otherwise the problem (404 for a node that is not registered, 401 with <paramref name="badSignature"/> as its
    /// detail) and the reject reason to count.
    /// </summary>
    public static async ValueTask<(IResult Problem, string Reason)?> Verify(
        string nodeId, ReadOnlyMemory<byte> bytes, byte[]? signature, NodeKeyCache keys, string badSignature) =>
        !NodeIdentity.IsWellFormedNodeId(nodeId) || await keys.Find(nodeId) is not { } key
            ? (Problems.UnknownNode(nodeId), RejectReasons.UnknownNode)
            : signature is null || !NodeIdentity.Verify(key, bytes.Span, signature)
                ? (Problems.BadSignature(badSignature), RejectReasons.BadSignature)
                : null;

    /// <summary>The verified body parsed as <typeparamref name="T"/>, or the problem to answer with.</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadJson<T>(
        string nodeId, HttpRequest request, int limit, NodeKeyCache keys, string what, CancellationToken cancellationToken)
        where T : class
    {
        var (signed, refused, _) = await Read(nodeId, request, limit, keys, cancellationToken);
        if (signed is null)
        {
            return (null, refused);
        }

        using var body = signed;
        return JsonBody.Parse<T>(body, what);
    }
}
