using Fogline.AlertEngine;
using Fogline.ComponentKit.Hosting;

return await ComponentHost.RunAsync(new AlertEngineComponent());
