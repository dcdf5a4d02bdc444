using System.Security.Cryptography.X509Certificates;

namespace DePIN.Abstractions.Security;

/// <summary>
/// Where the cluster's TLS certificate lives; configuration section <c>Orleans:Tls</c> on silos and SDK clients.
/// With <see cref="CertificatePath"/> set, silo-to-silo and client-to-gateway connections are mutual TLS.
/// </summary>
public sealed class ClusterTlsOptions
{
    public const string Section = "Orleans:Tls";

    /// <summary>PEM certificate this process presents (a Kubernetes TLS secret's <c>tls.crt</c>).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key of that certificate (<c>tls.key</c>).</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// PEM certificate of the authority that issues the cluster's certificates (<c>ca.crt</c>). A peer is accepted
    /// when its certificate chains to it. Without it the cluster shares one certificate and a peer must present
    /// exactly that one.
    /// </summary>
    public string? CaPath { get; set; }

    public bool IsOn => !string.IsNullOrEmpty(CertificatePath);
}

/// <summary>The loaded certificate and the rule a peer's certificate must meet.</summary>
public sealed class ClusterTls(X509Certificate2 certificate, X509Certificate2? authority)
{
    public X509Certificate2 Certificate { get; } = certificate;

    /// <summary>Loads the certificate, key and authority named by <paramref name="options"/>; null when TLS is off.</summary>
    public static ClusterTls? Load(ClusterTlsOptions options)
    {
        if (!options.IsOn)
        {
            return null;
        }

        var certificate = X509Certificate2.CreateFromPemFile(options.CertificatePath!, options.KeyPath);
        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"{ClusterTlsOptions.Section}: the certificate needs its private key (KeyPath).");
        }

        var authority = string.IsNullOrEmpty(options.CaPath) ? null : X509CertificateLoader.LoadCertificateFromFile(options.CaPath);
        return new ClusterTls(certificate, authority);
    }

    /// <summary>
    /// True when <paramref name="peer"/> belongs to the cluster: it chains to the authority (ignoring host names,
    /// which pod addresses do not carry), or, without one, it is this process's own certificate.
    /// </summary>
    public bool Accepts(X509Certificate2 peer)
    {
        if (authority is null)
        {
            return peer.RawDataMemory.Span.SequenceEqual(Certificate.RawDataMemory.Span);
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(peer);
    }
}
