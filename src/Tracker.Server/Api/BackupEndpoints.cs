using System.Globalization;
using Microsoft.Extensions.Options;
using Tracker.Core.Storage;
using Tracker.Server.Security;

namespace Tracker.Server.Api;

/// <summary>An online backup of the database, for admins, while the server goes on serving.</summary>
public static class BackupEndpoints
{
    /// <summary>Maps <c>POST /api/admin/backup</c>.</summary>
    public static RouteGroupBuilder MapBackup(this RouteGroupBuilder api)
    {
        api.MapPost("/admin/backup", async (IServiceProvider services, IOptions<StoreOptions> store, CancellationToken ct) =>
        {
            if (services.GetService<IStoreBackup>() is not { } backup)
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "This store is backed up with its own tools.",
                    detail: "The PostgreSQL store's database is backed up with pg_dump (tracker db backup prints the command); copy Store:ArtifactRoot with it.");
            // Beside the database file, under a name of the moment: the API never names a path to write to.
            string folder = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(store.Value.ConnectionString))!, "backups");
            string name = $"tracker-{DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture)}.db";
            var result = await backup.BackupAsync(Path.Combine(folder, name), ct);
            return Results.Created($"/api/admin/backup/{name}", result);
        })
        .RequireAuthorization(TrackerPolicies.Admin).WithTags("Admin")
        .WithName("BackupDatabase").WithSummary("Back up the database")
        .WithDescription("Copies the LiteDB database, as of one moment between writes, into a new file in `backups/` beside it, while the server goes on serving; the copy is checked before the answer. Trials' files (Store:ArtifactRoot) are not part of it. Needs an admin's key.")
        .Produces<StoreBackupResult>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return api;
    }
}
