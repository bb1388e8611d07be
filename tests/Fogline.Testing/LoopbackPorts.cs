using System.Net;
using System.Net.Sockets;

namespace Fogline.Testing;

/// <summary>TCP ports on loopback for servers the tests and benches start.</summary>
public static class LoopbackPorts
{
    /// <summary>A port free at the moment (the system's choice for port 0); a server started right after takes it.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
