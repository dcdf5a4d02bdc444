using DePIN.Core.Datasets;
using DePIN.Core.Identity;

namespace DePIN.Abstractions.Datasets;

/// <summary>Converts contributions between the HTTP shape and the signed canonical record.</summary>
public static class Contributions
{
    /// <summary>A node's signed contribution of <paramref name="record"/>, ready to post.</summary>
    public static ContributionRequest Sign(Contribution record, NodeSigner signer) => ContributionRequest.Sign(record, signer);

    /// <summary>
    /// The canonical record and signature a request carries, or the errors by field: the sample time must be whole
    /// milliseconds, keys and signatures base64 of the right length, every value encodable.
    /// </summary>
    public static (SignedContribution? Signed, Dictionary<string, string[]> Errors) Parse(ContributionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.Record.SampledAt.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            errors["record.sampledAt"] = ["must be whole milliseconds: the signed form keeps milliseconds"];
        }

        var publicKey = Base64(request.PublicKey, NodeIdentity.PublicKeyLength, "publicKey", errors);
        var signature = Base64(request.Signature, NodeIdentity.SignatureLength, "signature", errors);
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        try
        {
            return (new SignedContribution(request.Record.ToCanonical(), publicKey!, signature!), errors);
        }
        catch (ArgumentException e)
        {
            errors["record"] = [e.Message];
            return (null, errors);
        }
    }

    private static byte[]? Base64(string text, int length, string field, Dictionary<string, string[]> errors)
    {
        var bytes = new byte[length];
        if (Convert.TryFromBase64String(text, bytes, out var written) && written == length)
        {
            return bytes;
        }

        errors[field] = [$"must be the base64 of {length} bytes"];
        return null;
    }
}
