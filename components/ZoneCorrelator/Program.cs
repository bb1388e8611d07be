using Fogline.ComponentKit.Hosting;
using Fogline.ZoneCorrelator;

return await ComponentHost.RunAsync(new ZoneCorrelatorComponent());
