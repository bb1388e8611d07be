using System.Security.Cryptography.X509Certificates;

namespace Fogline.LocalCloud.Auth;

/// <summary>Device certificates: whether one chains to the CA the devices' certificates come from.</summary>
internal static class DeviceCertificates
{
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
