using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.Server.Tests;

/// <summary>The MLflow runs, metrics and artifacts endpoints on LiteDB.</summary>
public sealed class LiteDbMlflowRunsApiTests(MlflowServer server) : MlflowRunsApiTests(server), IClassFixture<MlflowServer>;

/// <summary>The MLflow runs, metrics and artifacts endpoints on PostgreSQL.</summary>
public sealed class PostgresMlflowRunsApiTests(PostgresMlflowServer server) : MlflowRunsApiTests(server), IClassFixture<PostgresMlflowServer>;

/// <summary>The MLflow runs, metrics and artifacts endpoints: shapes, limits, MLflow's rules, and the dashboard's view of logged runs.</summary>
public abstract class MlflowRunsApiTests(MlflowServer server)
{
    private const long T0 = 1_700_000_000_000;
    private readonly Mlflow api = server.Api;

    private Task<string> NewExperimentAsync(string prefix) => api.CreateExperimentAsync($"{prefix}-{Guid.NewGuid():N}");

    [Fact]
    public async Task RoundTrip_CreateLogBatchUpdateSearchHistory_MlflowShapesAndDashboardTrial()
    {
        string experimentId = await NewExperimentAsync("roundtrip");
        var created = (await api.PostAsync("runs/create", new
        {
            experiment_id = experimentId,
            user_id = "ada",
            run_name = "baseline",
            start_time = T0,
            tags = new[] { Mlflow.Pair("team", "vision") },
        })).GetProperty("run");
        Assert.Equal(["data", "info", "inputs"], Mlflow.Names(created));
        var info = created.GetProperty("info");
        Assert.Equal(["artifact_uri", "experiment_id", "lifecycle_stage", "run_id", "run_name", "run_uuid", "start_time", "status", "user_id"], Mlflow.Names(info));
        string runId = info.GetProperty("run_id").GetString()!;
        Assert.Matches("^[0-9a-f]{32}$", runId);
        Assert.Equal(runId, info.GetProperty("run_uuid").GetString());
        Assert.Equal(experimentId, info.GetProperty("experiment_id").GetString());
        Assert.Equal("baseline", info.GetProperty("run_name").GetString());
        Assert.Equal("ada", info.GetProperty("user_id").GetString());
        Assert.Equal("RUNNING", info.GetProperty("status").GetString());
        Assert.Equal(T0, info.GetProperty("start_time").GetInt64());
        Assert.Equal("active", info.GetProperty("lifecycle_stage").GetString());
        Assert.StartsWith("file:", info.GetProperty("artifact_uri").GetString());
        var data = created.GetProperty("data");
        Assert.Empty(data.GetProperty("metrics").EnumerateArray());
        Assert.Empty(data.GetProperty("params").EnumerateArray());
        Assert.Equal(new Dictionary<string, string> { ["mlflow.runName"] = "baseline", ["team"] = "vision" }, Mlflow.Pairs(data.GetProperty("tags")));
        Assert.Empty(created.GetProperty("inputs").EnumerateObject());

        var logged = await api.LogBatchAsync(runId,
            [
                Mlflow.Metric("val_f1_macro", 0.61, T0 + 1000, 1), Mlflow.Metric("val_f1_macro", 0.74, T0 + 2000, 2),
                Mlflow.Metric("val_f1_macro", 0.79, T0 + 3000, 3), Mlflow.Metric("val_loss", 0.9, T0 + 1000, 1), Mlflow.Metric("val_loss", 0.5, T0 + 3000, 3),
            ],
            [Mlflow.Pair("learning_rate", "0.001"), Mlflow.Pair("optimizer", "adam"), Mlflow.Pair("batch_size", "32"), Mlflow.Pair("schedule", "1e-3")],
            [Mlflow.Pair("stage", "tuning")]);
        Assert.Empty(logged.EnumerateObject());

        var updated = (await api.PostAsync("runs/update", new { run_id = runId, status = "FINISHED", end_time = T0 + 4000 })).GetProperty("run_info");
        Assert.Equal("FINISHED", updated.GetProperty("status").GetString());
        Assert.Equal(T0 + 4000, updated.GetProperty("end_time").GetInt64());

        var found = await api.PostAsync("runs/search", new
        {
            experiment_ids = new[] { experimentId },
            filter = "metrics.val_f1_macro > 0.75 AND params.optimizer = 'adam' AND tags.stage = 'tuning'",
            run_view_type = "ACTIVE_ONLY",
            max_results = 10,
            order_by = new[] { "metrics.val_f1_macro DESC" },
        });
        Assert.False(found.TryGetProperty("next_page_token", out _));
        var run = Assert.Single(found.GetProperty("runs").EnumerateArray());
        Assert.Equal(runId, run.GetProperty("info").GetProperty("run_id").GetString());
        var metrics = run.GetProperty("data").GetProperty("metrics").EnumerateArray().ToList();
        Assert.Equal(2, metrics.Count);
        Assert.Equal(["key", "step", "timestamp", "value"], Mlflow.Names(metrics[0]));
        Assert.Equal(("val_f1_macro", 0.79, T0 + 3000, 3L), (metrics[0].GetProperty("key").GetString()!, metrics[0].GetProperty("value").GetDouble(),
            metrics[0].GetProperty("timestamp").GetInt64(), metrics[0].GetProperty("step").GetInt64()));
        Assert.Equal(0.5, metrics[1].GetProperty("value").GetDouble());
        Assert.Equal(new Dictionary<string, string> { ["batch_size"] = "32", ["learning_rate"] = "0.001", ["optimizer"] = "adam", ["schedule"] = "1e-3" },
            Mlflow.Pairs(run.GetProperty("data").GetProperty("params")));

        var history = (await api.GetAsync($"metrics/get-history?run_id={runId}&metric_key=val_f1_macro")).GetProperty("metrics").EnumerateArray().ToList();
        Assert.Equal([0.61, 0.74, 0.79], history.Select(m => m.GetProperty("value").GetDouble()));
        Assert.Equal([1L, 2L, 3L], history.Select(m => m.GetProperty("step").GetInt64()));
        Assert.Equal([T0 + 1000, T0 + 2000, T0 + 3000], history.Select(m => m.GetProperty("timestamp").GetInt64()));
        Assert.All(history, m => Assert.Equal("val_f1_macro", m.GetProperty("key").GetString()));

        // The dashboard's view: a completed trial with its metrics, typed params and objective, ranked like any other.
        var trial = Assert.Single(await Api.TrialsAsync(server.Client, experimentId));
        Assert.Equal(runId, trial.Id);
        Assert.Equal(TrialState.Completed, trial.State);
        Assert.Equal(0.79, trial.FinalMetrics[MetricNames.ValF1Macro]);
        Assert.Equal(0.5, trial.FinalMetrics[MetricNames.ValLoss]);
        Assert.Equal(0.79, trial.Objective);
        Assert.Equal([new IntermediateValue(1, 0.61), new IntermediateValue(2, 0.74), new IntermediateValue(3, 0.79)], trial.Intermediate);
        Assert.Equal(0.001, trial.Parameters["learning_rate"].Number);
        Assert.Equal(32, trial.Parameters["batch_size"].Number);
        Assert.Equal("adam", trial.Parameters["optimizer"].Text);
        Assert.Equal(0.001, trial.Parameters["schedule"].Number);
        Assert.Equal("1e-3", trial.Logged!.Params["schedule"]); // MLflow gets back the text it sent
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 4000), trial.FinishedAt);
        Assert.Equal("tuning", trial.RunTags["stage"]);
        var summary = (await server.Client.GetFromJsonAsync<ExperimentSummary>($"/api/experiments/{experimentId}", Api.Json))!;
        Assert.Equal(runId, summary.BestTrialId);
        var series = await server.Client.GetFromJsonAsync<JsonElement>($"/api/trials/{runId}/metrics?key=val_loss");
        Assert.Equal(2, series.GetProperty("series").GetProperty("val_loss").GetArrayLength());
    }

    [Fact]
    public async Task RunsBrowser_FiltersLoggedParamsByRange()
    {
        string experimentId = await NewExperimentAsync("browser");
        foreach (var lr in new[] { "0.1", "0.01", "0.001" })
        {
            string runId = await api.CreateRunIdAsync(experimentId);
            await api.LogBatchAsync(runId, [Mlflow.Metric("val_f1_macro", double.Parse(lr) * 5)], [Mlflow.Pair("lr", lr)]);
        }
        var page = await server.Client.GetFromJsonAsync<JsonElement>($"/api/trials?experiment={experimentId}&param.lr=0.005..0.05");
        Assert.Equal(1, page.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task CreateRun_NameFromTagOrGenerated_UserFromTag()
    {
        string experimentId = await NewExperimentAsync("names");
        var fromTag = (await api.PostAsync("runs/create", new
        {
            experiment_id = experimentId, start_time = T0, tags = new[] { Mlflow.Pair("mlflow.runName", "tagged"), Mlflow.Pair("mlflow.user", "grace") },
        })).GetProperty("run").GetProperty("info");
        Assert.Equal("tagged", fromTag.GetProperty("run_name").GetString());
        Assert.Equal("grace", fromTag.GetProperty("user_id").GetString());

        var generated = (await api.CreateRunAsync(experimentId)).GetProperty("info");
        Assert.Matches("^[a-z]+-[a-z]+-[0-9]+$", generated.GetProperty("run_name").GetString());

        var conflict = await api.PostAsync("runs/create", new
        {
            experiment_id = experimentId, run_name = "one", tags = new[] { Mlflow.Pair("mlflow.runName", "other") },
        }, HttpStatusCode.BadRequest);
        Mlflow.AssertError(conflict, "INVALID_PARAMETER_VALUE", "mlflow.runName");
    }

    [Fact]
    public async Task GetRun_ByRunUuid_SameRun()
    {
        string runId = await api.CreateRunIdAsync(await NewExperimentAsync("uuid"), "by-uuid");
        var run = (await api.GetAsync($"runs/get?run_uuid={runId}")).GetProperty("run");
        Assert.Equal("by-uuid", run.GetProperty("info").GetProperty("run_name").GetString());
    }

    [Theory]
    [InlineData(1001, 0, 0, "at most 1000 metrics")]
    [InlineData(0, 101, 0, "at most 100 params")]
    [InlineData(0, 0, 101, "at most 100 tags")]
    [InlineData(1000, 1, 0, "at most 1000 metrics, params, and tags")]
    public async Task LogBatch_OverMlflowLimits_InvalidParameterValueAndNothingWritten(int metricCount, int paramCount, int tagCount, string messagePart)
    {
        string runId = await api.CreateRunIdAsync(await NewExperimentAsync("limits"));
        var error = await api.LogBatchAsync(runId,
            Enumerable.Range(0, metricCount).Select(i => Mlflow.Metric("m", i, T0 + i, i)),
            Enumerable.Range(0, paramCount).Select(i => Mlflow.Pair($"p{i}", "v")),
            Enumerable.Range(0, tagCount).Select(i => Mlflow.Pair($"t{i}", "v")),
            HttpStatusCode.BadRequest);
        Mlflow.AssertError(error, "INVALID_PARAMETER_VALUE", messagePart);

        var run = await api.GetRunAsync(runId);
        Assert.Empty(run.GetProperty("data").GetProperty("metrics").EnumerateArray());
        Assert.Empty(run.GetProperty("data").GetProperty("params").EnumerateArray());
        Assert.Empty((await api.GetAsync($"metrics/get-history?run_id={runId}&metric_key=m")).GetProperty("metrics").EnumerateArray());
    }

    [Fact]
    public async Task LogBatch_AtMlflowLimits_Accepted()
    {
        string runId = await api.CreateRunIdAsync(await NewExperimentAsync("limits-ok"));
        await api.LogBatchAsync(runId, Enumerable.Range(0, 1000).Select(i => Mlflow.Metric("m", i, T0 + i, i)));
        await api.LogBatchAsync(runId, [], Enumerable.Range(0, 100).Select(i => Mlflow.Pair($"p{i}", "v")), Enumerable.Range(0, 100).Select(i => Mlflow.Pair($"t{i}", "v")));
        Assert.Equal(1000, (await api.GetAsync($"metrics/get-history?run_id={runId}&metric_key=m")).GetProperty("metrics").GetArrayLength());
        var run = await api.GetRunAsync(runId);
        Assert.Equal(100, run.GetProperty("data").GetProperty("params").GetArrayLength());
        Assert.Equal(999, run.GetProperty("data").GetProperty("metrics")[0].GetProperty("value").GetDouble());
    }

    [Fact]
    public async Task LogBatch_BodyOverOneMegabyte_InvalidParameterValue()
    {
        string runId = await api.CreateRunIdAsync(await NewExperimentAsync("bytes"));
        var error = await api.LogBatchAsync(runId,
            parameters: Enumerable.Range(0, 100).Select(i => Mlflow.Pair($"p{i}", new string('z', 6000))),
            tags: Enumerable.Range(0, 100).Select(i => Mlflow.Pair($"t{i}", new string('x', 5000))),
            expected: HttpStatusCode.BadRequest);
        Mlflow.AssertError(error, "INVALID_PARAMETER_VALUE", "bytes");
    }

    [Fact]
    public async Task LogParameter_SameValueAgain_Accepted_OtherValue_Rejected()
    {
        string runId = await api.CreateRunIdAsync(await NewExperimentAsync("params"));
        await api.PostAsync("runs/log-parameter", new { run_id = runId, key = "lr", value = "0.1" });
        await api.PostAsync("runs/log-parameter", new { run_uuid = runId, key = "lr", value = "0.1" });
        var error = await api.PostAsync("runs/log-parameter", new { run_id = runId, key = "lr", value = "0.2" }, HttpStatusCode.BadRequest);
        Mlflow.AssertError(error, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed");
        Assert.Equal("0.1", Mlflow.Pairs((await api.GetRunAsync(runId)).GetProperty("data").GetProperty("params"))["lr"]);

        var batch = await api.LogBatchAsync(runId, parameters: [Mlflow.Pair("a", "1"), Mlflow.Pair("a", "1")], expected: HttpStatusCode.BadRequest);
        Mlflow.AssertError(batch, "INVALID_PARAMETER_VALUE", "Duplicate parameter keys");
    }

    [Theory]
    [InlineData("a//b")]
    [InlineData("../up")]
    [InlineData("/absolute")]
    [InlineData("trailing/")]
    [InlineData("dollar$sign")]
    [InlineData("semi;colon")]
    public async Task LogParameter_BadKey_InvalidParameterValue(string key)
    {
        string runId = await api.CreateRunIdAsync(await NewExperimentAsync("keys"));
        Mlflow.AssertError(await api.PostAsync("runs/log-parameter", new { run_id = runId, key, value = "1" }, HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE", "Invalid parameter name");
    }

    [Fact]
    public async Task LogBatch_LengthLimits_KeyAndValues()
    {
        string runId = await api.CreateRunIdAsync(await NewExperimentAsync("lengths"));
        await api.LogBatchAsync(runId, [Mlflow.Metric("m/with.odd-chars and space", 1)], [Mlflow.Pair("long", new string('v', 6000))], [Mlflow.Pair("tag", new string('t', 5000))]);
        Mlflow.AssertError(await api.LogBatchAsync(runId, parameters: [Mlflow.Pair("longer", new string('v', 6001))], expected: HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE", "6000");
        Mlflow.AssertError(await api.LogBatchAsync(runId, tags: [Mlflow.Pair("tag2", new string('t', 5001))], expected: HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE", "5000");
        Mlflow.AssertError(await api.LogBatchAsync(runId, [Mlflow.Metric(new string('k', 251), 1)], expected: HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE", "250");
        Mlflow.AssertError(await api.LogBatchAsync(runId, [Mlflow.Metric("neg", 1, timestamp: -1)], expected: HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE", "timestamp");
        Assert.Equal(1, (await api.GetRunAsync(runId)).GetProperty("data").GetProperty("metrics")[0].GetProperty("value").GetDouble());
    }

    [Fact]
    public async Task LogMetric_Int64AsStringsAndNaN_StoredAsSent()
    {
        string runId = await api.CreateRunIdAsync(await NewExperimentAsync("nan"));
        await api.PostRawAsync("runs/log-metric", $"{{\"run_id\": \"{runId}\", \"run_uuid\": \"{runId}\", \"key\": \"loss\", \"value\": \"NaN\", \"timestamp\": \"{T0 + 5}\", \"step\": \"3\"}}");
        await api.PostRawAsync("runs/log-metric", $"{{\"run_id\": \"{runId}\", \"key\": \"loss\", \"value\": \"-Infinity\", \"timestamp\": {T0 + 6}, \"step\": 2}}");
        var history = (await api.GetAsync($"metrics/get-history?run_uuid={runId}&metric_key=loss")).GetProperty("metrics").EnumerateArray().ToList();
        Assert.Equal(["-Infinity", "NaN"], history.Select(m => m.GetProperty("value").GetString()));
        Assert.Equal([2L, 3L], history.Select(m => m.GetProperty("step").GetInt64()));
        Assert.Equal(T0 + 5, history[1].GetProperty("timestamp").GetInt64());
        Mlflow.AssertError(await api.PostAsync("runs/log-metric", new { run_id = runId, key = "loss", value = 1.0 }, HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE", "timestamp");
    }

    [Fact]
    public async Task LatestMetric_GreatestStepThenTimeWins_AndEveryValueIsKept()
    {
        string runId = await api.CreateRunIdAsync(await NewExperimentAsync("latest"));
        await api.LogBatchAsync(runId, [Mlflow.Metric("acc", 0.9, T0 + 100, 10), Mlflow.Metric("acc", 0.5, T0 + 200, 2)]);
        await api.LogBatchAsync(runId, [Mlflow.Metric("acc", 0.7, T0 + 300, 10), Mlflow.Metric("acc", 0.8, T0 + 150, 10)]);
        var metric = (await api.GetRunAsync(runId)).GetProperty("data").GetProperty("metrics")[0];
        Assert.Equal((0.7, 10L, T0 + 300), (metric.GetProperty("value").GetDouble(), metric.GetProperty("step").GetInt64(), metric.GetProperty("timestamp").GetInt64()));
        var history = (await api.GetAsync($"metrics/get-history?run_id={runId}&metric_key=acc")).GetProperty("metrics").EnumerateArray().ToList();
        // Every value, by step; within a step in the order logged (the store's series order, which step-cursor page
        // tokens rely on), not by time.
        Assert.Equal([0.5, 0.9, 0.7, 0.8], history.Select(m => m.GetProperty("value").GetDouble()));
        Assert.Equal([2L, 10L, 10L, 10L], history.Select(m => m.GetProperty("step").GetInt64()));
    }

    [Fact]
    public async Task GetHistory_PageTokens_PageThroughEveryValue()
    {
        string runId = await api.CreateRunIdAsync(await NewExperimentAsync("history"));
        await api.LogBatchAsync(runId, Enumerable.Range(1, 5).Select(i => Mlflow.Metric("loss", 1.0 / i, T0 + i, i)));
        var values = new List<double>();
        string? token = null;
        int pages = 0;
        do
        {
            var page = await api.GetAsync($"metrics/get-history?run_id={runId}&metric_key=loss&max_results=2" + (token is null ? "" : $"&page_token={Uri.EscapeDataString(token)}"));
            values.AddRange(page.GetProperty("metrics").EnumerateArray().Select(m => m.GetProperty("value").GetDouble()));
            token = page.TryGetProperty("next_page_token", out var next) ? next.GetString() : null;
            pages++;
        }
        while (token is not null);
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => 1.0 / i), values);

        // Tokens are step cursors: a step with more values than a page goes on where the last page stopped within it.
        await api.LogBatchAsync(runId, Enumerable.Range(1, 5).Select(i => Mlflow.Metric("same", i, T0 + 10 - i, 7)));
        var same = new List<double>();
        token = null;
        pages = 0;
        do
        {
            var page = await api.GetAsync($"metrics/get-history?run_id={runId}&metric_key=same&max_results=2" + (token is null ? "" : $"&page_token={Uri.EscapeDataString(token)}"));
            same.AddRange(page.GetProperty("metrics").EnumerateArray().Select(m => m.GetProperty("value").GetDouble()));
            token = page.TryGetProperty("next_page_token", out var next) ? next.GetString() : null;
            if (token is not null) Assert.Matches(@"^7(:\d+)?$", token);
            pages++;
        }
        while (token is not null);
        Assert.Equal(3, pages);
        Assert.Equal([1.0, 2, 3, 4, 5], same);

        Assert.Empty((await api.GetAsync($"metrics/get-history?run_id={runId}&metric_key=unknown")).GetProperty("metrics").EnumerateArray());
        Mlflow.AssertError(await api.GetAsync($"metrics/get-history?run_id={runId}&metric_key=loss&page_token=%25%25", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        Mlflow.AssertError(await api.GetAsync($"metrics/get-history?run_id={runId}&metric_key=loss&max_results=25001", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        Mlflow.AssertError(await api.GetAsync($"metrics/get-history?run_id={runId}", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE", "metric_key");
    }

    [Fact]
    public async Task SetTagAndDeleteTag_ChangeRunTags_RunNameTagRenames()
    {
        string runId = await api.CreateRunIdAsync(await NewExperimentAsync("tags"), "before");
        await api.PostAsync("runs/set-tag", new { run_id = runId, key = "note", value = "first" });
        await api.PostAsync("runs/set-tag", new { run_uuid = runId, key = "note", value = "second" });
        await api.PostAsync("runs/set-tag", new { run_id = runId, key = "mlflow.runName", value = "after" });
        var run = await api.GetRunAsync(runId);
        Assert.Equal("second", Mlflow.Pairs(run.GetProperty("data").GetProperty("tags"))["note"]);
        Assert.Equal("after", run.GetProperty("info").GetProperty("run_name").GetString());

        Assert.Empty((await api.PostAsync("runs/delete-tag", new { run_id = runId, key = "note" })).EnumerateObject());
        Assert.DoesNotContain("note", Mlflow.Pairs((await api.GetRunAsync(runId)).GetProperty("data").GetProperty("tags")).Keys);
        Mlflow.AssertError(await api.PostAsync("runs/delete-tag", new { run_id = runId, key = "note" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST", "note");
    }

    [Fact]
    public async Task UpdateRun_StatusesMapToTrialStates_NameChanges()
    {
        string experimentId = await NewExperimentAsync("status");
        string runId = await api.CreateRunIdAsync(experimentId, "first-name");
        var info = (await api.PostAsync("runs/update", new { run_id = runId, status = "KILLED", run_name = "second-name" })).GetProperty("run_info");
        Assert.Equal("KILLED", info.GetProperty("status").GetString());
        Assert.Equal("second-name", info.GetProperty("run_name").GetString());
        Assert.False(info.TryGetProperty("end_time", out _));
        Assert.Equal(TrialState.Interrupted, Assert.Single(await Api.TrialsAsync(server.Client, experimentId)).State);

        foreach (var (status, state) in new[] { ("SCHEDULED", TrialState.Queued), ("FAILED", TrialState.Failed), ("RUNNING", TrialState.Running), ("FINISHED", TrialState.Completed) })
        {
            await api.PostAsync("runs/update", new { run_uuid = runId, status });
            Assert.Equal(state, Assert.Single(await Api.TrialsAsync(server.Client, experimentId)).State);
        }
        Mlflow.AssertError(await api.PostAsync("runs/update", new { run_id = runId, status = "DONE" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE", "status");
    }

    [Fact]
    public async Task DeleteAndRestoreRun_RunViewTypes_AndNoLoggingWhileDeleted()
    {
        string experimentId = await NewExperimentAsync("deleted");
        string kept = await api.CreateRunIdAsync(experimentId, "kept"), gone = await api.CreateRunIdAsync(experimentId, "gone");
        Assert.Empty((await api.PostAsync("runs/delete", new { run_id = gone })).EnumerateObject());
        Assert.Equal("deleted", (await api.GetRunAsync(gone)).GetProperty("info").GetProperty("lifecycle_stage").GetString());

        async Task<string[]> SearchAsync(string? view) =>
            (await api.PostAsync("runs/search", view is null ? new { experiment_ids = new[] { experimentId } } : (object)new { experiment_ids = new[] { experimentId }, run_view_type = view }))
            .GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_name").GetString()!).Order().ToArray();
        Assert.Equal(["kept"], await SearchAsync(null));
        Assert.Equal(["kept"], await SearchAsync("ACTIVE_ONLY"));
        Assert.Equal(["gone"], await SearchAsync("DELETED_ONLY"));
        Assert.Equal(["gone", "kept"], await SearchAsync("ALL"));

        Mlflow.AssertError(await api.PostAsync("runs/log-metric", new { run_id = gone, key = "m", value = 1, timestamp = T0 }, HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE", "must be in the 'active' state");
        Mlflow.AssertError(await api.PostAsync("runs/update", new { run_id = gone, status = "FINISHED" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");

        await api.PostAsync("runs/restore", new { run_id = gone });
        Assert.Equal(["gone", "kept"], await SearchAsync(null));
        await api.PostAsync("runs/log-metric", new { run_id = gone, key = "m", value = 1, timestamp = T0 });
    }

    [Fact]
    public async Task ListArtifacts_LocalRunFolder_ListsFilesAndFolders()
    {
        var info = (await api.CreateRunAsync(await NewExperimentAsync("artifacts"))).GetProperty("info");
        string runId = info.GetProperty("run_id").GetString()!, root = info.GetProperty("artifact_uri").GetString()!;
        string folder = new Uri(root).LocalPath;
        Assert.StartsWith(server.Factory.DataFolder, folder);
        Directory.CreateDirectory(Path.Combine(folder, "model"));
        await File.WriteAllTextAsync(Path.Combine(folder, "model", "MLmodel"), "flavors");
        await File.WriteAllTextAsync(Path.Combine(folder, "metrics.json"), "{}");

        var top = await api.GetAsync($"artifacts/list?run_id={runId}");
        Assert.Equal(root, top.GetProperty("root_uri").GetString());
        var files = top.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(2, files.Count);
        Assert.Equal(("metrics.json", false, 2L), (files[0].GetProperty("path").GetString()!, files[0].GetProperty("is_dir").GetBoolean(), files[0].GetProperty("file_size").GetInt64()));
        Assert.Equal(("model", true), (files[1].GetProperty("path").GetString()!, files[1].GetProperty("is_dir").GetBoolean()));
        Assert.False(files[1].TryGetProperty("file_size", out _));

        var model = (await api.GetAsync($"artifacts/list?run_id={runId}&path=model")).GetProperty("files").EnumerateArray().Single();
        Assert.Equal(("model/MLmodel", 7L), (model.GetProperty("path").GetString()!, model.GetProperty("file_size").GetInt64()));
        Assert.Empty((await api.GetAsync($"artifacts/list?run_id={runId}&path=nothing-here")).GetProperty("files").EnumerateArray());
        Mlflow.AssertError(await api.GetAsync($"artifacts/list?run_id={runId}&path=../../etc", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
    }

    [Fact]
    public async Task LogBatch_PublishesOnTheLiveFeed()
    {
        string runId = await api.CreateRunIdAsync(await NewExperimentAsync("live"));
        var events = new List<FeedEvent>();
        using (server.Factory.Services.GetRequiredService<MetricFeed>().Subscribe(e => { lock (events) events.Add(e); }))
            await api.LogBatchAsync(runId, [Mlflow.Metric("val_f1_macro", 0.5, T0, 1), Mlflow.Metric("val_loss", 0.7, T0, 1), Mlflow.Metric("val_f1_macro", 0.6, T0, 2)]);
        lock (events)
        {
            var recorded = events.OfType<MetricsRecorded>().Where(e => e.TrialId == runId).ToList();
            Assert.Equal([1, 2], recorded.Select(r => r.Step));
            Assert.Equal(2, recorded[0].Values.Count);
            Assert.Equal(0.5, recorded[0].Values["val_f1_macro"]);
            Assert.Equal(0.7, recorded[0].Values["val_loss"]);
            Assert.Contains(events.OfType<TrialChanged>(), e => e.Trial.Id == runId && e.Trial.FinalMetrics["val_f1_macro"] == 0.6);
        }
    }
}
