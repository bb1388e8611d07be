using Fogline.Aggregator;
using Fogline.Components.Hosting;

return await ComponentHost.RunAsync(new AggregatorComponent());
