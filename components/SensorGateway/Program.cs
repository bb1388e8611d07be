using Fogline.ComponentKit.Hosting;
using Fogline.SensorGateway;

return await ComponentHost.RunAsync(new SensorGatewayComponent());
