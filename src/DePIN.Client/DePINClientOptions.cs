using System.Net;
using DePIN.Abstractions.Security;

namespace DePIN.Client;

/// <summary>How the SDK finds the DePIN cluster.</summary>
public sealed class DePINClientOptions
{
    /// <summary>
    /// PostgreSQL connection string of the cluster's database: the client reads the live gateways from its membership
    /// table. Leave null to use <see cref="Gateways"/>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Fixed gateway endpoints, for a development silo (default: the local silo's gateway, 127.0.0.1:30000).</summary>
    public IList<IPEndPoint> Gateways { get; } = [];

    /// <summary>The cluster id the silos run with (their <c>Orleans:ClusterId</c>).</summary>
    public string ClusterId { get; set; } = "depin";

    /// <summary>The service id the silos run with (their <c>Orleans:ServiceId</c>).</summary>
    public string ServiceId { get; set; } = "depin";

    /// <summary>The cluster's certificate, when its silos run with <c>Orleans:Tls</c>: gateways then take mutual TLS only.</summary>
    public ClusterTlsOptions Tls { get; set; } = new();
}
