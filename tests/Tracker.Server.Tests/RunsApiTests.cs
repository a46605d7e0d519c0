using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.Server.Tests;

/// <summary>The runs browser's API on LiteDB.</summary>
public sealed class LiteDbRunsApiTests(RunsApiTests.Server server) : RunsApiTests(server), IClassFixture<RunsApiTests.Server>;

/// <summary>The runs browser's API on PostgreSQL.</summary>
public sealed class PostgresRunsApiTests(RunsApiTests.PostgresServer server) : RunsApiTests(server), IClassFixture<RunsApiTests.PostgresServer>;

/// <summary>The runs browser's API: query, export and annotations over trials the test writes into the real store.</summary>
public abstract class RunsApiTests
{
    /// <summary>The real server with two finished experiments written straight into its store (finished, so the runner leaves them be); on LiteDB.</summary>
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

        protected override async Task StartedAsync(TrackerServerFactory factory)
        {
            var store = factory.Services.GetRequiredService<TrackerStores>();
            var t0 = new DateTimeOffset(2025, 5, 1, 8, 0, 0, TimeSpan.Zero);
            await store.Experiments.SaveExperimentAsync(new Experiment { Id = "cnn", CreatedAt = t0, State = ExperimentState.Completed, Spec = new ExperimentSpec { Name = "CNN sweep", Model = "small-cnn", Strategy = "random" } });
            await store.Experiments.SaveExperimentAsync(new Experiment { Id = "res", CreatedAt = t0, State = ExperimentState.Completed, Spec = new ExperimentSpec { Name = "ResNet, \"tuned\"", Model = "resnet18", Strategy = "tpe" } });
            Trial Trial(string id, string experiment, int number, TrialState state, double lr, string optimizer, double? f1) => new()
            {
                Id = id,
                ExperimentId = experiment,
                Number = number,
                Parameters = new() { ["learning_rate"] = lr, ["optimizer"] = optimizer },
                State = state,
                Epochs = 3,
                Objective = state == TrialState.Completed ? f1 : null,
                FinalMetrics = f1 is { } f ? new() { [MetricNames.ValF1Macro] = f, [MetricNames.ValAccuracy] = f + 0.05 } : [],
                CreatedAt = t0.AddMinutes(number + (experiment == "res" ? 10 : 0)),
                FinishedAt = t0.AddMinutes(number + 30),
            };
            await store.Trials.SaveTrialsAsync(
            [
                Trial("cnn-0", "cnn", 0, TrialState.Completed, 0.001, "adam", 0.61),
                Trial("cnn-1", "cnn", 1, TrialState.Completed, 0.01, "sgd", 0.82),
                Trial("cnn-2", "cnn", 2, TrialState.Failed, 0.3, "adam", null),
                Trial("cnn-3", "cnn", 3, TrialState.Pruned, 0.05, "sgd", 0.4),
                Trial("res-0", "res", 0, TrialState.Completed, 0.002, "adamw", 0.91),
                Trial("res-1", "res", 1, TrialState.Completed, 0.02, "sgd", 0.77),
            ]);
            await store.Trials.UpdateTrialAnnotationsAsync("res-0", ["best", "baseline"], "Great run, \"really\"\nsecond line");
        }
    }

    /// <summary>The same server on PostgreSQL.</summary>
    public sealed class PostgresServer(PostgresCluster cluster) : Server(ServerBackend.Postgres(cluster));

    private readonly HttpClient client;

    protected RunsApiTests(Server server) => client = server.Factory.CreateClient();

    private async Task<JsonElement> GetAsync(string url)
    {
        var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string[] Ids(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("trial").GetProperty("id").GetString()!).ToArray();

    [Fact]
    public async Task GetTrials_NoFilter_NewestFirstWithTotalAndPaging()
    {
        var page = await GetAsync("/api/trials?pageSize=4");

        Assert.Equal(6, page.GetProperty("total").GetInt32());
        Assert.Equal((0, 4), (page.GetProperty("page").GetInt32(), page.GetProperty("pageSize").GetInt32()));
        Assert.Equal(["res-1", "res-0", "cnn-3", "cnn-2"], Ids(page));
        var first = page.GetProperty("items")[1];
        Assert.Equal("ResNet, \"tuned\"", first.GetProperty("experimentName").GetString());
        Assert.Equal("resnet18", first.GetProperty("model").GetString());
        Assert.Equal("tpe", first.GetProperty("strategy").GetString());
        Assert.Equal(["best", "baseline"], first.GetProperty("trial").GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(["cnn-1", "cnn-0"], Ids(await GetAsync("/api/trials?pageSize=4&page=1")));
    }

    [Fact]
    public async Task GetTrials_FiltersAndSort_ApplyTogether()
    {
        Assert.Equal(["res-0", "cnn-1", "res-1", "cnn-0", "cnn-3", "cnn-2"], Ids(await GetAsync("/api/trials?sort=metric:val_f1_macro&desc=true")));
        Assert.Equal(["cnn-1", "res-0"], Ids(await GetAsync("/api/trials?metric.val_f1_macro=0.8..&sort=metric:val_f1_macro&desc=false")));
        Assert.Equal(["cnn-0", "res-0", "cnn-1"], Ids(await GetAsync("/api/trials?param.learning_rate=0.001..0.01&sort=param:learning_rate&desc=false")));
        Assert.Equal(["cnn-3", "cnn-1"], Ids(await GetAsync("/api/trials?model=small-cnn&param.optimizer=sgd&sort=number&desc=true")));
        Assert.Equal(["res-1", "res-0"], Ids(await GetAsync("/api/trials?strategy=tpe")));
        Assert.Equal(["cnn-3", "cnn-2"], Ids(await GetAsync("/api/trials?state=failed&state=pruned")));
        Assert.Equal(["cnn-3", "cnn-2"], Ids(await GetAsync("/api/trials?state=failed,pruned&experiment=cnn")));
        Assert.Equal(["res-0"], Ids(await GetAsync("/api/trials?tag=BEST")));
        Assert.Equal(["res-0"], Ids(await GetAsync("/api/trials?q=really")));
        Assert.Equal(["res-1", "res-0"], Ids(await GetAsync("/api/trials?q=resnet")));
        Assert.Equal(0, (await GetAsync("/api/trials?model=none")).GetProperty("total").GetInt32());
    }

    [Theory]
    [InlineData("param.learning_rate=0.001..fast", "param.learning_rate")]
    [InlineData("metric.val_f1_macro=good", "metric.val_f1_macro")]
    [InlineData("state=finished", "state")]
    [InlineData("sort=speed", "sort")]
    [InlineData("pageSize=1000", "pageSize")]
    public async Task GetTrials_BadFilter_ProblemNamesTheParameter(string queryString, string parameter)
    {
        var response = await client.GetAsync($"/api/trials?{queryString}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal([parameter], problem.GetProperty("errors").EnumerateObject().Select(p => p.Name));
        Assert.Contains(parameter, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Export_Csv_EveryMatchingRowWithRfc4180Escaping()
    {
        var response = await client.GetAsync("/api/trials/export?format=csv&experiment=res&sort=number&desc=false&pageSize=1&page=1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("trials.csv", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var csv = await response.Content.ReadAsStringAsync();
        Assert.Equal(
            "experiment,number,id,state,param.learning_rate,param.optimizer,metric.val_accuracy,metric.val_f1_macro,tags,notes\r\n"
            + "\"ResNet, \"\"tuned\"\"\",0,res-0,completed,0.002,adamw,0.9600000000000001,0.91,best;baseline,\"Great run, \"\"really\"\"\nsecond line\"\r\n"
            + "\"ResNet, \"\"tuned\"\"\",1,res-1,completed,0.02,sgd,0.8200000000000001,0.77,,\r\n",
            csv);
    }

    [Fact]
    public async Task Export_CsvWithGaps_LeavesMissingCellsEmpty()
    {
        var csv = await client.GetStringAsync("/api/trials/export?experiment=cnn&sort=number&desc=false");

        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length); // the header and four trials, paging ignored
        Assert.Equal("CNN sweep,2,cnn-2,failed,0.3,adam,,,,", lines[3]);
    }

    [Fact]
    public async Task Export_Json_RowsWithParametersMetricsAndAnnotations()
    {
        var response = await client.GetAsync("/api/trials/export?format=json&sort=metric:val_f1_macro");

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var rows = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToList();
        Assert.Equal(["res-0", "cnn-1", "res-1", "cnn-0", "cnn-3", "cnn-2"], rows.Select(r => r.GetProperty("id").GetString()));
        var best = rows[0];
        Assert.Equal("ResNet, \"tuned\"", best.GetProperty("experiment").GetString());
        Assert.Equal("completed", best.GetProperty("state").GetString());
        Assert.Equal(0.002, best.GetProperty("parameters").GetProperty("learning_rate").GetDouble());
        Assert.Equal(0.91, best.GetProperty("metrics").GetProperty("val_f1_macro").GetDouble());
        Assert.Equal(["best", "baseline"], best.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task Export_UnknownFormat_BadRequestNamingFormat()
    {
        var response = await client.GetAsync("/api/trials/export?format=xlsx");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("format", out _));
    }

    [Fact]
    public async Task PatchTrial_TagsAndNotes_StoredAndQueryable()
    {
        var response = await client.PatchAsJsonAsync("/api/trials/cnn-3", new { tags = new[] { " revisit ", "Revisit", "lr" }, notes = "pruned too early?" }, Api.Json);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var trial = (await response.Content.ReadFromJsonAsync<Trial>(Api.Json))!;
        Assert.Equal(["revisit", "lr"], trial.Tags);
        Assert.Equal("pruned too early?", trial.Notes);
        Assert.Equal(TrialState.Pruned, trial.State);
        Assert.Equal(["cnn-3"], Ids(await GetAsync("/api/trials?tag=revisit")));
        Assert.Equal(["cnn-3"], Ids(await GetAsync("/api/trials?q=too%20early")));

        // Only the fields sent change.
        await client.PatchAsJsonAsync("/api/trials/cnn-3", new { notes = "" }, Api.Json);
        var read = (await client.GetFromJsonAsync<Trial>("/api/trials/cnn-3", Api.Json))!;
        Assert.Equal(["revisit", "lr"], read.Tags);
        Assert.Null(read.Notes);
    }

    [Fact]
    public async Task PatchTrial_UnknownOrBadBody_Problems()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await client.PatchAsJsonAsync("/api/trials/nope", new { tags = new[] { "x" } }, Api.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PatchAsJsonAsync("/api/trials/cnn-0", new { }, Api.Json)).StatusCode);
        var notJson = await client.PatchAsync("/api/trials/cnn-0", new StringContent("{ tags: ", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        var wrongType = await client.PatchAsync("/api/trials/cnn-0", new StringContent("""{ "tags": "one" }""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Empty((await client.GetFromJsonAsync<Trial>("/api/trials/cnn-0", Api.Json))!.Tags);
    }
}
