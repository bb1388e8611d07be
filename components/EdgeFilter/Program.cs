using Fogline.ComponentKit.Hosting;
using Fogline.EdgeFilter;

return await ComponentHost.RunAsync(new EdgeFilterComponent());
