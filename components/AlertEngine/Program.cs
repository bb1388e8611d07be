using Fogline.AlertEngine;
using Fogline.Components.Hosting;

return await ComponentHost.RunAsync(new AlertEngineComponent());
