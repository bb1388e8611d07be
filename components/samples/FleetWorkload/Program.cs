using Fogline.ComponentKit.Hosting;
using Fogline.Samples.FleetWorkload;

if (args is not [var name] || string.IsNullOrWhiteSpace(name))
{
    await Console.Error.WriteLineAsync("usage: FleetWorkload COMPONENT_NAME (the name its recipe gives it)");
    return 64;
}

return await ComponentHost.RunAsync(new FleetWorkloadComponent(name));
