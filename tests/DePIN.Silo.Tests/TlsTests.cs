using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DePIN.Abstractions.Nodes;
using DePIN.Client;
using DePIN.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Runtime.Messaging;

namespace DePIN.Silo.Tests;

/// <summary>
/// Transport security as an operator configures it: an authority issues each silo its certificate; the public API
/// serves HTTPS only, silos and SDK clients speak mutual TLS and turn away a certificate the authority did not issue,
/// and no secret reaches the logs.
/// </summary>
public sealed class TlsTests(PostgresServer postgres) : IDisposable
{
    private readonly string _files = Directory.CreateTempSubdirectory("depin-tls-").FullName;

    [Fact]
    public async Task Two_silos_serve_HTTPS_and_form_a_cluster_over_mutual_TLS_the_SDK_connects_with_an_issued_certificate_a_stranger_is_refused_and_no_secret_is_logged()
    {
        using var authority = Authority();
        using var first = Issue(authority, "silo-a");
        using var second = Issue(authority, "silo-b");
        using var client = Issue(authority, "sdk");
        using var stranger = SelfSigned("stranger");
        var caPath = Write("ca.crt", authority.ExportCertificatePem());

        const string password = "pg-password-not-for-logs";
        var database = await postgres.CreateDatabase() + $";Password={password}";
        var clusterId = $"tls-{Guid.NewGuid():N}";
        await using var a = await ServiceProcess.StartSilo(database, clusterId, Settings(first, "a", caPath), https: first);
        await using var b = await ServiceProcess.StartSilo(database, clusterId, Settings(second, "b", caPath), https: second);

        // HTTPS only: the port does not answer plain HTTP.
        using (var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            var answered = false;
            try
            {
                using var response = await plain.GetAsync($"http://127.0.0.1:{a.HttpPort}/health");
                answered = response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
            }

            Assert.False(answered, "the HTTPS port served plain HTTP");
        }

        // The two silos are one cluster, over TLS: both active in membership, and a node registered through one is
        // read through the other.
        await Wait.Until(() => ActiveSilos(database, clusterId), n => n == 2, "both silos to be active in membership");
        using var node = TestNode.Create(region: "tls-1");
        (await node.Register(a.Http, DateTimeOffset.UtcNow)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Accepted, (await node.Send(b.Http, node.Batch(1, DateTimeOffset.UtcNow))).StatusCode);
        var seen = await Wait.Until(() => b.Http.Find<NodeDetails>($"/v1/nodes/{node.Id}"), n => n?.LastSequence == 1, "the batch sent through silo b");
        Assert.Equal(node.Id, seen!.NodeId);

        // The port silos talk to each other on speaks TLS, with the certificate the authority issued that silo.
        Assert.Equal(first.RawData, await PresentedCertificate(a.SiloPort, client));
        Assert.Equal(second.RawData, await PresentedCertificate(b.SiloPort, client));

        // A tenant and the operator over HTTPS, so their keys pass through the silos' request logging.
        var jobs = new JobApi(a.Http);
        var tenantKey = await jobs.NewTenant();
        using (var listed = await jobs.Send(HttpMethod.Get, "/v1/jobs", tenantKey))
        {
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        }

        // The SDK with a certificate from the authority reaches the cluster through a gateway; with a stranger's
        // certificate it does not.
        using (var sdk = await Sdk(database, clusterId, client, caPath))
        {
            var details = await sdk.Services.GetRequiredService<IDePINClient>().GetNodeAsync(node.Id);
            Assert.Equal(node.Capabilities, details!.Capabilities);
        }

        // The gateways close its connections after the handshake; Orleans' client keeps retrying them for minutes
        // before it gives up, so the test gives it 20 s (the issued certificate connects in about one).
        using (var patience = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                using var connected = await Sdk(database, clusterId, stranger, caPath, patience.Token);
                await connected.Services.GetRequiredService<IDePINClient>().GetNodeAsync(node.Id);
            });
            Assert.True(refused is ConnectionFailedException or OperationCanceledException, refused.ToString());
        }

        var keyPem = File.ReadAllText(Path.Combine(_files, "a.key")).Split('\n')[1];
        foreach (var silo in new[] { a, b })
        {
            Assert.Contains("Now listening on: https://", silo.Output, StringComparison.Ordinal); // the logs were captured
            Assert.DoesNotContain(password, silo.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(tenantKey, silo.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(DePIN.Testing.Http.OperatorKey, silo.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(keyPem, silo.Output, StringComparison.Ordinal);
        }
    }

    public void Dispose() => Directory.Delete(_files, recursive: true);

    /// <summary>The silo's HTTPS certificate and its cluster certificate are the same issued pair; logs at Information.</summary>
    private Dictionary<string, string> Settings(X509Certificate2 certificate, string name, string caPath)
    {
        var (certificatePath, keyPath) = WritePair(name, certificate);
        return new(SiloOnPostgres.Settings)
        {
            ["Kestrel:Certificates:Default:Path"] = certificatePath,
            ["Kestrel:Certificates:Default:KeyPath"] = keyPath,
            ["Orleans:Tls:CertificatePath"] = certificatePath,
            ["Orleans:Tls:KeyPath"] = keyPath,
            ["Orleans:Tls:CaPath"] = caPath,
            ["Logging:LogLevel:Default"] = "Information",
            ["Nodes:TelemetryInterval"] = "00:01:00",
        };
    }

    private async Task<IHost> Sdk(
        string database, string clusterId, X509Certificate2 certificate, string caPath, CancellationToken cancellationToken = default)
    {
        var (certificatePath, keyPath) = WritePair($"client-{Guid.NewGuid():N}", certificate);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDePINClient(o =>
        {
            o.ConnectionString = database;
            o.ClusterId = clusterId;
            o.ServiceId = clusterId;
            o.Tls = new() { CertificatePath = certificatePath, KeyPath = keyPath, CaPath = caPath };
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return host;
    }

    /// <summary>Completes a TLS handshake with the port, as a peer holding <paramref name="certificate"/>; the certificate the port presented.</summary>
    private static async Task<byte[]> PresentedCertificate(int port, X509Certificate2 certificate)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        byte[]? presented = null;
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, remote, _, _) =>
        {
            presented = remote?.GetRawCertData();
            return true;
        });
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [certificate],
        });
        return presented ?? throw new InvalidOperationException("The port presented no certificate.");
    }

    private static async Task<long> ActiveSilos(string database, string clusterId)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM orleans_membership WHERE deployment_id = @c AND status = 3", connection);
        command.Parameters.AddWithValue("c", clusterId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Writes the certificate and its private key as PEM files <c>NAME.crt</c> and <c>NAME.key</c>.</summary>
    private (string Certificate, string Key) WritePair(string name, X509Certificate2 certificate) =>
        (Write($"{name}.crt", certificate.ExportCertificatePem()), Write($"{name}.key", certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem()));

    private string Write(string name, string pem)
    {
        var path = Path.Combine(_files, name);
        File.WriteAllText(path, pem);
        return path;
    }

    private static X509Certificate2 Authority()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=depin-test-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Issue(X509Certificate2 authority, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = Leaf(name, key);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Leaf(name, key).CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7));
    }

    // Server and client authentication: a silo is both to its peers.
    private static CertificateRequest Leaf(string name, ECDsa key)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        return request;
    }
}
