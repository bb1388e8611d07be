using System.IO.Ports;
using Fogline.ComponentKit.Hosting;
using Fogline.SensorGateway;

// Deployed, System.IO.Ports' native shim (termios) is an artifact beside the binary named for its platform.
NativeLibraries.LoadBesideExecutable(typeof(SerialPort).Assembly, "libSystem.IO.Ports.Native", "libSystem.IO.Ports.Native");
return await ComponentHost.RunAsync(new SensorGatewayComponent());
