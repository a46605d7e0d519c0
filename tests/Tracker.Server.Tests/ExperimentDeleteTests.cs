using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tracker.Core.Storage;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.Server.Tests;

/// <summary>
/// <c>DELETE /api/experiments/{id}</c> on the real server: an admin's key deletes an ended experiment with its runs,
/// their metrics and their files; a running one is refused with 409 until it is cancelled, an unknown one is 404, and an
/// editor's key is refused. MLflow's <c>experiments/delete</c> still only marks an experiment deleted.
/// </summary>
public abstract class ExperimentDeleteTests(ExperimentDeleteTests.Server server)
{
    /// <summary>A server with a key of each role (<see cref="RoleTests.KeySettings"/>), on LiteDB.</summary>
    public class Server : ServerFixture
    {
        public Server()
            : this(ServerBackend.LiteDb)
        {
        }

        protected Server(ServerBackend backend)
            : base(backend)
        {
        }

        protected override TrackerServerFactory CreateFactory(ServerStore store) => new(store) { Settings = RoleTests.KeySettings };
    }

    /// <summary>The same server on PostgreSQL.</summary>
    public sealed class PostgresServer(PostgresCluster cluster) : Server(ServerBackend.Postgres(cluster));

    private readonly TrackerServerFactory factory = server.Factory;

    private HttpClient Editor => RoleTests.Client(factory, RoleTests.EditorKey);

    private HttpClient Admin => RoleTests.Client(factory, RoleTests.AdminKey);

    /// <summary>A logged run with a metric series and a file, in a new logged experiment; returns the experiment's and the run's ids.</summary>
    private async Task<(string Experiment, string Run)> LoggedRunAsync(string experimentName)
    {
        var started = await Editor.PostAsJsonAsync("/api/runs", new { experiment = experimentName, parameters = new { lr = 0.1 } });
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var run = await started.Content.ReadFromJsonAsync<JsonElement>();
        string runId = run.GetProperty("id").GetString()!;
        var points = Enumerable.Range(0, 50).Select(step => new { key = "loss", value = 1.0 / (step + 1), step }).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await Editor.PostAsJsonAsync($"/api/runs/{runId}/metrics", new { points })).StatusCode);
        var upload = await Editor.PutAsync($"/api/runs/{runId}/artifacts/notes/summary.txt", new StringContent("fine", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        return (run.GetProperty("experimentId").GetString()!, runId);
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement;
    }

    [Fact]
    public async Task Delete_RunningThenCancelled_409ThenGoneWithRunsMetricsAndFiles()
    {
        var (experiment, run) = await LoggedRunAsync("to delete");
        var (kept, keptRun) = await LoggedRunAsync("to keep");
        string files = Path.Combine(factory.ArtifactRoot, run);
        Assert.True(File.Exists(Path.Combine(files, "notes", "summary.txt")));

        // A logged experiment runs until it is cancelled: refused, and nothing is deleted.
        var running = await ProblemAsync(await Admin.DeleteAsync($"/api/experiments/{experiment}"), HttpStatusCode.Conflict);
        Assert.Equal("Cancel the experiment first.", running.GetProperty("title").GetString());
        Assert.Contains($"POST /api/experiments/{experiment}/cancel", running.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync($"/api/runs/{run}")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await Editor.PostAsync($"/api/experiments/{experiment}/cancel", null)).StatusCode);
        var deleted = await Admin.DeleteAsync($"/api/experiments/{experiment}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"/api/experiments/{experiment}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"/api/runs/{run}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"/api/trials/{run}/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"/api/runs/{run}/artifacts/notes/summary.txt")).StatusCode);
        Assert.False(Directory.Exists(files), $"{files} is still there");
        var stores = factory.Services.GetRequiredService<TrackerStores>();
        Assert.Empty(await stores.Metrics.LatestMetricsAsync(run));
        Assert.Empty(await stores.Artifacts.GetArtifactMetadataAsync(run));
        var mlflow = await new Mlflow(Admin).GetAsync($"experiments/get?experiment_id={experiment}", HttpStatusCode.NotFound);
        Mlflow.AssertError(mlflow, "RESOURCE_DOES_NOT_EXIST");
        var search = await new Mlflow(Admin).PostAsync("runs/search", new { experiment_ids = new[] { experiment, kept }, max_results = 100 });
        Assert.Equal([keptRun], search.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_id").GetString()));
        // The other experiment is whole.
        Assert.Equal(50, (await Admin.GetFromJsonAsync<JsonElement>($"/api/runs/{keptRun}/metrics/loss")).GetProperty("points").GetArrayLength());
        Assert.True(File.Exists(Path.Combine(factory.ArtifactRoot, keptRun, "notes", "summary.txt")));

        await ProblemAsync(await Admin.DeleteAsync($"/api/experiments/{experiment}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_UnknownId_404()
    {
        var problem = await ProblemAsync(await Admin.DeleteAsync("/api/experiments/no-such-experiment"), HttpStatusCode.NotFound);

        Assert.Equal("No experiment 'no-such-experiment'.", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Delete_EditorKey_403AndTheExperimentStays()
    {
        var (experiment, run) = await LoggedRunAsync("editor may not delete");
        Assert.Equal(HttpStatusCode.OK, (await Editor.PostAsync($"/api/experiments/{experiment}/cancel", null)).StatusCode);

        var problem = await ProblemAsync(await Editor.DeleteAsync($"/api/experiments/{experiment}"), HttpStatusCode.Forbidden);

        Assert.Contains("needs the admin role", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Editor.GetAsync($"/api/runs/{run}")).StatusCode);
    }

    [Fact]
    public async Task MlflowDelete_StillOnlyMarksItDeleted_AndAnEditorMay()
    {
        var mlflow = new Mlflow(Editor);
        string id = await mlflow.CreateExperimentAsync("soft delete");

        await mlflow.PostAsync("experiments/delete", new { experiment_id = id });

        var got = await mlflow.GetAsync($"experiments/get?experiment_id={id}");
        Assert.Equal("deleted", got.GetProperty("experiment").GetProperty("lifecycle_stage").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Editor.GetAsync($"/api/experiments/{id}")).StatusCode);
        await mlflow.PostAsync("experiments/restore", new { experiment_id = id });
        Assert.Equal("active", (await mlflow.GetAsync($"experiments/get?experiment_id={id}")).GetProperty("experiment").GetProperty("lifecycle_stage").GetString());
    }
}

/// <summary>Deleting experiments on LiteDB.</summary>
public sealed class LiteDbExperimentDeleteTests(ExperimentDeleteTests.Server server) : ExperimentDeleteTests(server), IClassFixture<ExperimentDeleteTests.Server>;

/// <summary>Deleting experiments on PostgreSQL.</summary>
public sealed class PostgresExperimentDeleteTests(ExperimentDeleteTests.PostgresServer server) : ExperimentDeleteTests(server), IClassFixture<ExperimentDeleteTests.PostgresServer>;
