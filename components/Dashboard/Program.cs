using Fogline.ComponentKit.Hosting;
using Fogline.Dashboard;

return await ComponentHost.RunAsync(new DashboardComponent());
