using Fogline.CloudUplink;
using Fogline.ComponentKit.Hosting;

return await ComponentHost.RunAsync(new CloudUplinkComponent());
