using Fogline.Components.Hosting;
using Fogline.SensorGateway;

return await ComponentHost.RunAsync(new SensorGatewayComponent());
