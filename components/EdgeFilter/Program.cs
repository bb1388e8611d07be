using Fogline.Components.Hosting;
using Fogline.EdgeFilter;

return await ComponentHost.RunAsync(new EdgeFilterComponent());
