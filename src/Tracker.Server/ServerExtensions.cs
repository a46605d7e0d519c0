using MudBlazor.Services;
using Tracker.Core;
using Tracker.Server.Api;
using Tracker.Server.Components;
using Tracker.Server.Hubs;
using Tracker.Server.Security;

namespace Tracker.Server;

/// <summary>Registers and maps the web parts: dashboard, REST API, SignalR hub.</summary>
public static class ServerExtensions
{
    /// <summary>Adds Razor components (interactive server), MudBlazor, problem details, JSON options, SignalR and API keys.</summary>
    public static IHostApplicationBuilder AddTrackerServer(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => TrackerJson.Configure(o.SerializerOptions));
        services.AddSignalR().AddJsonProtocol(o => TrackerJson.Configure(o.PayloadSerializerOptions));
        services.AddHostedService<MetricsHubRelay>();
        services.AddApiKeys(builder.Configuration);
        return builder;
    }

    /// <summary>Maps static files, the dashboard, the API and the hub; the API and the hub behind the API key rule.</summary>
    public static WebApplication MapTrackerServer(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseApiKeys();
        app.UseStaticFiles();
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapTrackerApi();
        app.MapHub<MetricsHub>(MetricsHub.Path);
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
