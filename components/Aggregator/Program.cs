using Fogline.Aggregator;
using Fogline.ComponentKit.Hosting;

return await ComponentHost.RunAsync(new AggregatorComponent());
