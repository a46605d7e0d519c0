using Microsoft.AspNetCore.SignalR;
using MudBlazor.Services;
using Scalar.AspNetCore;
using Tracker.Core;
using Tracker.Server.Api;
using Tracker.Server.Api.Mlflow;
using Tracker.Server.Components;
using Tracker.Server.Hubs;
using Tracker.Server.SavedViews;
using Tracker.Server.Security;

namespace Tracker.Server;

/// <summary>Registers and maps the web parts: dashboard, REST API, SignalR hub.</summary>
public static class ServerExtensions
{
    /// <summary>Where the interactive API reference (Scalar) is served; the OpenAPI document is at <c>/openapi/v1.json</c>.</summary>
    public const string ApiReferencePath = "/scalar";

    /// <summary>The dashboard's page for an unknown address.</summary>
    public const string NotFoundPath = "/not-found";

    // A page load: a GET that accepts HTML, outside the API and the hub.
    private static bool ForAPersonsBrowser(HttpContext context) =>
        HttpMethods.IsGet(context.Request.Method)
        && !context.Request.Path.StartsWithSegments("/api") && !context.Request.Path.StartsWithSegments("/hubs")
        && context.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    /// <summary>Adds Razor components (interactive server), MudBlazor, problem details, JSON options, SignalR, API keys, dashboard sign-in, the runs grid's saved views and the OpenAPI document.</summary>
    public static IHostApplicationBuilder AddTrackerServer(this IHostApplicationBuilder builder)
    {
        // The dashboard's own files (app.css, favicon.png) live in the repository's top-level wwwroot and are served by
        // the static-files middleware; in development MapStaticAssets knows only its build manifest and warns about each
        // of them on every page load, though they are served.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Builder.StaticAssetDevelopmentRuntimeHandler", LogLevel.Error);
        var services = builder.Services;
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddProblemDetails();
        services.AddKestrelRejectionBodies();
        services.AddExceptionHandler<BadRequestProblems>();
        services.AddExceptionHandler<StoreUnavailableProblems>();
        services.AddExceptionHandler<StoreDamagedProblems>();
        services.ConfigureHttpJsonOptions(o => TrackerJson.Configure(o.SerializerOptions));
        services.AddSignalR(o => o.AddFilter<HubRoleFilter>()).AddJsonProtocol(o => TrackerJson.Configure(o.PayloadSerializerOptions));
        services.AddSingleton<MetricsHubRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<MetricsHubRelay>());
        services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Tracker API";
                document.Info.Description = "Experiments, trials and their metrics; the native run-logging API under /api/runs; "
                    + "MLflow's tracking API 2.0 under /api/2.0/mlflow. Live updates: the SignalR hub at /hubs/metrics.";
                return Task.CompletedTask;
            });
            o.AddSchemaTransformer(OpenApiMetadata.NullableIsOptional);
            o.AddSchemaTransformer(MlflowOpenApi.SnakeCaseSchemas);
            o.CreateSchemaReferenceId = MlflowOpenApi.SchemaId;
        });
        services.AddApiKeys(builder.Configuration);
        services.AddDashboardSignIn(builder.Configuration);
        services.AddSingleton<PluginViews>();
        services.AddSingleton<MlflowTracking>();
        services.AddSavedViews(builder.Configuration);
        return builder;
    }

    /// <summary>
    /// Maps static files, the dashboard and its sign-in, the API, its OpenAPI document and reference page, and the hub;
    /// all behind the access rule (<see cref="ApiKeyMiddleware"/>), which says who a request is, and the role policies
    /// (<see cref="TrackerPolicies"/>), which say what it may do.
    /// </summary>
    public static WebApplication MapTrackerServer(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // A browser that asks for an address the dashboard does not have gets the dashboard's own page, still as a 404;
        // the API, the hub and other clients get problem details (above), which runs inside this.
        app.UseWhen(ForAPersonsBrowser, browser => browser.UseStatusCodePagesWithReExecute(NotFoundPath, createScopeForStatusCodePages: true));
        app.UseRouting(); // here, after the re-execution, so that the re-executed request finds its page

        app.UseSameOrigin();
        app.UseAuthentication(); // reads the dashboard session cookie for the access rule
        app.UseApiKeys();
        app.UseAuthorization(); // the role policies of the endpoints, for the user the access rule set
        app.UseStaticFiles();
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapTrackerApi();
        app.MapDashboardSignIn();
        app.MapOpenApi();
        // The page's script is the one embedded in the package (served under the page's path); the CDN fonts, the
        // telemetry and the hosted AI agent are off, so the page works on a machine with no internet.
        app.MapScalarApiReference(ApiReferencePath, o => o.WithTitle("Tracker API").DisableDefaultFonts().DisableTelemetry().DisableAgent());
        app.MapHub<MetricsHub>(MetricsHub.Path);
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
