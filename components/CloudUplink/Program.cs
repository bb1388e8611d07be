using Fogline.CloudUplink;
using Fogline.Components.Hosting;

return await ComponentHost.RunAsync(new CloudUplinkComponent());
