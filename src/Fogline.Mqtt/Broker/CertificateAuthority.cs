using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fogline.Mqtt.Broker;

/// <summary>
/// The certificate authority of a local cloud's devices, kept in a folder as PEM files: <c>NAME-ca.pem</c> (the root
/// the devices trust, their <c>system.rootCaPath</c>, as they trust Amazon's root CA) and <c>NAME-ca.key</c>. It
/// issues the broker's and the data plane's server certificates (localhost and 127.0.0.1) and one client certificate
/// per device whose common name is the thing name: Mosquitto's <c>use_identity_as_username</c> and the data plane take
/// the device's identity from it, as AWS IoT Core takes it from the certificate attached to the thing. Keys are ECDSA
/// P-256, written readable by their owner only (PKCS#8); certificates are readable by all. Made with .NET's own
/// cryptography: no openssl needed.
/// </summary>
public sealed class CertificateAuthority
{
    private static readonly TimeSpan CaLifetime = TimeSpan.FromDays(3650);
    private static readonly TimeSpan LeafLifetime = TimeSpan.FromDays(825);
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly UnixFileMode Readable = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private readonly Lock _sync = new();

    private CertificateAuthority(string directory, string name)
    {
        Directory = directory;
        Name = name;
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>The CA's name (its files' prefix).</summary>
    public string Name { get; }

    /// <summary>The CA certificate, PEM: what devices and the cloud trust.</summary>
    public string CaCertificateFile => Path.Combine(Directory, Name + "-ca.pem");

    private string CaKeyFile => Path.Combine(Directory, Name + "-ca.key");

    /// <summary>
    /// The CA in <paramref name="directory"/> named <paramref name="name"/>, made there when it is not yet (a CA whose
    /// certificate and key do not both exist is made anew).
    /// </summary>
    public static CertificateAuthority OpenOrCreate(string directory, string name = "devices")
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentException.ThrowIfNullOrEmpty(name);
        System.IO.Directory.CreateDirectory(directory);
        var authority = new CertificateAuthority(directory, name);
        if (!File.Exists(authority.CaCertificateFile) || !File.Exists(authority.CaKeyFile))
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var subject = new X500DistinguishedNameBuilder();
            subject.AddOrganizationName("Fogline local cloud");
            subject.AddCommonName($"Fogline {name} CA");
            var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
            var now = DateTimeOffset.UtcNow;
            using var certificate = request.CreateSelfSigned(now.AddHours(-1), now + CaLifetime);
            Write(authority.CaKeyFile, key.ExportPkcs8PrivateKeyPem(), OwnerOnly);
            Write(authority.CaCertificateFile, certificate.ExportCertificatePem(), Readable);
        }

        return authority;
    }

    /// <summary>A server certificate named <paramref name="name"/> for localhost and 127.0.0.1 (and <paramref name="hosts"/>).</summary>
    public IssuedCertificate IssueServer(string name, params string[] hosts)
    {
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        foreach (var host in hosts ?? [])
        {
            if (IPAddress.TryParse(host, out var address))
            {
                names.AddIpAddress(address);
            }
            else
            {
                names.AddDnsName(host);
            }
        }

        return Issue(name, ServerAuthentication, names.Build());
    }

    /// <summary>A client certificate whose common name is <paramref name="commonName"/> (a device's thing name).</summary>
    public IssuedCertificate IssueClient(string commonName) => Issue(commonName, ClientAuthentication, alternativeNames: null);

    private IssuedCertificate Issue(string commonName, Oid usage, X509Extension? alternativeNames)
    {
        ArgumentException.ThrowIfNullOrEmpty(commonName);
        if (commonName.IndexOfAny(['/', '\\', '\0']) >= 0 || commonName is "." or "..")
        {
            throw new ArgumentException($"'{commonName}' cannot name a certificate file", nameof(commonName));
        }

        lock (_sync)
        {
            using var issuer = X509Certificate2.CreateFromPemFile(CaCertificateFile, CaKeyFile);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var subject = new X500DistinguishedNameBuilder();
            subject.AddCommonName(commonName);
            var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], critical: false));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
            if (alternativeNames is not null)
            {
                request.CertificateExtensions.Add(alternativeNames);
            }

            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7F;
            var now = DateTimeOffset.UtcNow;
            var notAfter = now + LeafLifetime < issuer.NotAfter ? now + LeafLifetime : new DateTimeOffset(issuer.NotAfter.ToUniversalTime());
            using var certificate = request.Create(issuer, now.AddHours(-1), notAfter, serial);
            var issued = new IssuedCertificate(Path.Combine(Directory, $"{Name}-{commonName}.pem"), Path.Combine(Directory, $"{Name}-{commonName}.key"));
            Write(issued.PrivateKeyFile, key.ExportPkcs8PrivateKeyPem(), OwnerOnly);
            Write(issued.CertificateFile, certificate.ExportCertificatePem(), Readable);
            return issued;
        }
    }

    private static void Write(string path, string pem, UnixFileMode mode)
    {
        var temporary = path + ".tmp";
        using (var stream = OperatingSystem.IsWindows()
            ? new FileStream(temporary, FileMode.Create, FileAccess.Write)
            : new FileStream(temporary, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = mode }))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(pem);
            writer.Write('\n');
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, mode);
        }

        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>A certificate the <see cref="CertificateAuthority"/> issued: its PEM file and its private key's.</summary>
/// <param name="CertificateFile">The certificate, PEM.</param>
/// <param name="PrivateKeyFile">The private key, PKCS#8 PEM, readable by its owner only.</param>
public sealed record IssuedCertificate(string CertificateFile, string PrivateKeyFile);
