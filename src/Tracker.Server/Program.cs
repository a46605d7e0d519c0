using Tracker.Core;
using Tracker.Storage;
using Tracker.Server;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = TrackerPaths.ContentRoot(),
    WebRootPath = "wwwroot",
});
// MudBlazor's and Blazor's own assets (_content/*, _framework/*) come from static web assets in every environment.
builder.WebHost.UseStaticWebAssets();

builder.AddTrackerCore();
builder.AddTrackerStore();
builder.AddTrackerServer();

var app = builder.Build();
app.MapTrackerServer();
app.Run();

/// <summary>The entry point; public for integration tests.</summary>
public partial class Program;
