using System.Diagnostics;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Storage.LiteDb;
using Tracker.Storage.Postgres;
using Tracker.StoreBench;

// Usage: dotnet run -c Release --project bench/Tracker.RunsBench -- [--store litedb|postgres] [--trials 100000] [--experiments 20] [--repeat 5] [--points 100000] [--pg-bin DIR]
//        dotnet run -c Release --project bench/Tracker.RunsBench -- --scale [--trials 100000] [--series 100] [--points 100000] [--requests 3]
//        (--scale needs the Release server: dotnet build -c Release src/Tracker.Server)
int total = Option("--trials", 100_000), experimentCount = Option("--experiments", 20), repeat = Option("--repeat", 5), pointCount = Option("--points", 100_000);
string backend = TextOption("--store", "litedb")!;
if (backend is not ("litedb" or "postgres")) throw new ArgumentException("--store is litedb or postgres");
var folder = Directory.CreateTempSubdirectory("tracker-runsbench-").FullName;
// The postgres user must reach the cluster's folder inside (a temporary subdirectory starts as 0700).
if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
PostgresServer? postgres = null;
try
{
    Console.WriteLine($"{Environment.ProcessorCount} cores ({Cpu()}); .NET {Environment.Version}; load average at start: {LoadAverage()}");
    if (args.Contains("--scale"))
    {
        var scaleStart = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var scaleExperiments = Experiments(experimentCount, scaleStart);
        var scaleRandom = new Random(1);
        await ScaleBench.RunAsync(folder, total, scaleExperiments, i => Trial(i, scaleRandom, scaleExperiments[i % experimentCount].Id, scaleStart),
            Option("--series", 100), pointCount, Option("--requests", 3));
        return;
    }
    IDisposable disposable;
    IExperimentStore experimentStore;
    ITrialStore store;
    Func<TrialQuery, string> describePlan;
    string where;
    if (backend == "postgres")
    {
        postgres = await PostgresServer.StartAsync(TextOption("--pg-bin", null), [], folder);
        var pg = await PostgresStore.OpenAsync(await postgres.CreateDatabaseAsync("runsbench"), Path.Combine(folder, "artifacts"));
        (disposable, experimentStore, store) = (pg, pg, pg);
        describePlan = _ => "- | -";
        where = $"PostgreSQL ({PostgresServer.Version(TextOption("--pg-bin", null))}, its default settings, throwaway cluster on loopback: {await postgres.ShowAsync("shared_buffers", "work_mem")})";
    }
    else
    {
        var lite = new LiteDbStore(Path.Combine(folder, "tracker.db"));
        (disposable, experimentStore, store) = (lite, lite, lite);
        describePlan = _ => "catalog | catalog, page by id";
        where = "LiteDB";
    }
    using var _ = disposable;
    var random = new Random(1);
    var t0 = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    var experiments = Experiments(experimentCount, t0);
    foreach (var e in experiments) await experimentStore.SaveExperimentAsync(e);

    var clock = Stopwatch.StartNew();
    await store.SaveTrialsAsync(Enumerable.Range(0, total).Select(i => Trial(i, random, experiments[i % experimentCount].Id, t0)));
    double insertSeconds = clock.Elapsed.TotalSeconds;
    Console.WriteLine($"{where}: {total:N0} trials in {experimentCount} experiments");
    string size = "";
    if (postgres is not null)
    {
        // What autovacuum would do soon after a bulk insert: statistics for the planner.
        clock.Restart();
        await PostgresServer.ExecuteAsync(postgres.ConnectionString("runsbench"), "VACUUM ANALYZE");
        size = $"; VACUUM ANALYZE {clock.Elapsed.TotalSeconds:F1} s";
    }
    else size = $"; file {new FileInfo(Path.Combine(folder, "tracker.db")).Length / 1048576.0:F0} MiB";
    Console.WriteLine($"insert (SaveTrialsAsync): {insertSeconds:F1} s ({total / insertSeconds:N0} trials/s){size}");
    if (store is LiteDbStore catalogued)
    {
        // The first query builds the trial catalog from the file; what it holds is the live memory it adds.
        clock.Restart();
        await catalogued.QueryTrialsAsync(new TrialQuery { PageSize = 1 });
        double buildMs = clock.Elapsed.TotalMilliseconds;
        // The first build also fills LiteDB's page cache, so the catalog's own size is that of a second one.
        long before = GC.GetTotalMemory(forceFullCollection: true);
        clock.Restart();
        var copy = catalogued.BuildCatalogCopy();
        double rebuildMs = clock.Elapsed.TotalMilliseconds;
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(copy);
        Console.WriteLine($"trial catalog: built by the first query in {buildMs:F0} ms (again, from LiteDB's warm cache: {rebuildMs:F0} ms); "
            + $"{(after - before) / 1048576.0:F1} MiB managed ({(after - before) / (double)total:F0} bytes a trial)");
    }

    var cases = new (string Name, TrialQuery Query)[]
    {
        ("default: newest first, page 0", new TrialQuery()),
        ("newest first, page 100", new TrialQuery { Page = 100 }),
        ("sort metric:val_f1_macro desc", new TrialQuery { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro) }),
        ("sort metric:val_f1_macro asc, last page", new TrialQuery { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), Descending = false, Page = total / 50 - 1 }),
        ("one experiment, sort objective desc", new TrialQuery { ExperimentIds = ["exp007"], SortBy = new TrialSortField(TrialSortKind.Objective) }),
        ("state=completed, sort val_f1_macro desc", new TrialQuery { States = [TrialState.Completed], SortBy = TrialSortField.Metric(MetricNames.ValF1Macro) }),
        ("state=running", new TrialQuery { States = [TrialState.Running] }),
        ("model=resnet18 + lr range + f1>=0.9", new TrialQuery
        {
            Model = "resnet18",
            Parameters = new Dictionary<string, ValueFilter> { ["learning_rate"] = ValueFilter.Range(1e-3, 1e-2) },
            Metrics = new Dictionary<string, ValueFilter> { [MetricNames.ValF1Macro] = ValueFilter.Range(0.9, null) },
        }),
        ("metric val_f1_macro >= 0.98 (indexed range)", new TrialQuery { Metrics = new Dictionary<string, ValueFilter> { [MetricNames.ValF1Macro] = ValueFilter.Range(0.98, null) } }),
        ("tag=baseline", new TrialQuery { Tag = "baseline" }),
        ("free text 'sgd'", new TrialQuery { Text = "sgd" }),
        ("sort param:learning_rate asc (index made on first use)", new TrialQuery { SortBy = TrialSortField.Parameter("learning_rate"), Descending = false }),
        ("sort param:learning_rate asc (again)", new TrialQuery { SortBy = TrialSortField.Parameter("learning_rate"), Descending = false }),
    };
    const double goalMs = 100;
    Console.WriteLine();
    // CPU per query (mean of the repeats): this process, plus on PostgreSQL the cluster's processes. On a machine that
    // other work shares, wall times stretch with the load; CPU time much less so.
    double CpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds + (postgres?.CpuSeconds() ?? 0);
    Console.WriteLine($"| query | matches | first run ms | median of {repeat} ms | CPU ms | goal < {goalMs:F0} ms | count plan | page plan |");
    Console.WriteLine("|---|---:|---:|---:|---:|---|---|---|");
    int met = 0;
    foreach (var (name, query) in cases)
    {
        clock.Restart();
        var page = await store.QueryTrialsAsync(query);
        double first = clock.Elapsed.TotalMilliseconds;
        var times = new List<double>();
        double cpuBefore = CpuSeconds();
        for (int r = 0; r < repeat; r++)
        {
            clock.Restart();
            await store.QueryTrialsAsync(query);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        double cpuMs = (CpuSeconds() - cpuBefore) * 1000 / repeat;
        times.Sort();
        double median = times[times.Count / 2];
        if (median < goalMs) met++;
        Console.WriteLine($"| {name} | {page.Total:N0} | {first:F0} | {median:F0} | {cpuMs:F0} | {(median < goalMs ? "met" : $"missed ({median / goalMs:F1}x)")} | {describePlan(query)} |");
    }
    Console.WriteLine($"{met} of {cases.Length} queries under {goalMs:F0} ms median");

    // An experiment list's summary of one experiment (total / experimentCount trials).
    var tallyTimes = new List<double>();
    TrialTally? tally = null;
    for (int r = 0; r <= repeat; r++)
    {
        clock.Restart();
        tally = await store.TallyTrialsAsync("exp007", ObjectiveDirection.Maximize);
        if (r > 0) tallyTimes.Add(clock.Elapsed.TotalMilliseconds);
    }
    tallyTimes.Sort();
    Console.WriteLine($"\nTallyTrialsAsync of one experiment ({tally!.Total:N0} trials): median of {repeat} {tallyTimes[tallyTimes.Count / 2]:F1} ms");

    clock.Restart();
    int exported = await store.ExportTrialsAsync(new TrialQuery { States = [TrialState.Completed] }).CountAsync();
    Console.WriteLine($"\nexport of state=completed: {exported:N0} rows in {clock.Elapsed.TotalMilliseconds:F0} ms");
    Console.WriteLine($"load average after the queries: {LoadAverage()}");

    if (backend == "litedb" && pointCount > 0) BenchMetricIngestion(folder, pointCount, t0);
}
finally
{
    if (postgres is not null) await postgres.DisposeAsync();
    Directory.Delete(folder, recursive: true);
}

// Metric ingestion: the store's chunked series against the layout it replaced, one document per point (written here
// straight to LiteDB as the peer), each into a fresh file in the same run. Three rounds, interleaved, best of each.
static void BenchMetricIngestion(string folder, int count, DateTimeOffset t0)
{
    var points = Enumerable.Range(1, count).Select(i => new MetricPoint("t1", "loss", i, 1.0 / i, t0.AddMilliseconds(i))).ToList();
    var best = new Dictionary<string, double>();
    void Time(string name, Action run)
    {
        var clock = Stopwatch.StartNew();
        run();
        best[name] = Math.Min(best.GetValueOrDefault(name, double.MaxValue), clock.Elapsed.TotalSeconds);
    }
    int file = 0;
    string NewFile() => Path.Combine(folder, $"metrics-{file++}.db");
    for (int round = 0; round < 3; round++)
    {
        foreach (int batch in new[] { 10_000, 100 })
        {
            using (var store = new LiteDbStore(NewFile()))
            {
                Time($"chunked series, batches of {batch:N0}", () => { foreach (var part in points.Chunk(batch)) store.AppendMetricsAsync(part).GetAwaiter().GetResult(); });
                Time("chunked series, read back", () => store.ReadMetricsAsync("t1", "loss", MetricCursor.Start, count).GetAwaiter().GetResult());
            }
            using var db = new LiteDB.LiteDatabase(new LiteDB.ConnectionString { Filename = NewFile(), Connection = LiteDB.ConnectionType.Direct });
            var perPoint = db.GetCollection("metrics");
            perPoint.EnsureIndex("trialId");
            Time($"one document per point, batches of {batch:N0}", () =>
            {
                foreach (var part in points.Chunk(batch))
                    perPoint.InsertBulk(part.Select(p => new LiteDB.BsonDocument
                    {
                        ["trialId"] = p.TrialId, ["key"] = p.Key, ["step"] = p.Step, ["value"] = p.Value, ["time"] = p.Timestamp.UtcDateTime,
                    }));
            });
            Time("one document per point, read back", () => perPoint.Find(LiteDB.Query.EQ("trialId", "t1"))
                .Select(d => (d["step"].AsInt32, d["value"].AsDouble)).OrderBy(p => p.Item1).ToList());
        }
    }
    Console.WriteLine($"\nmetric ingestion, {count:N0} points of one series (best of 3 rounds):");
    Console.WriteLine("| layout | batches of 10,000 | batches of 100 | read back |");
    Console.WriteLine("|---|---:|---:|---:|");
    foreach (var layout in new[] { "chunked series", "one document per point" })
        Console.WriteLine($"| {layout} | {Rate(best[$"{layout}, batches of 10,000"])} | {Rate(best[$"{layout}, batches of 100"])} | {best[$"{layout}, read back"] * 1000:F0} ms |");
    Console.WriteLine($"ratio chunked / per point, batches of 10,000: {best["chunked series, batches of 10,000"] / best["one document per point, batches of 10,000"]:F2}; "
        + $"batches of 100: {best["chunked series, batches of 100"] / best["one document per point, batches of 100"]:F2}");

    string Rate(double seconds) => $"{seconds:F2} s ({count / seconds:N0}/s)";
}

static List<Experiment> Experiments(int count, DateTimeOffset t0)
{
    string[] models = ["small-cnn", "resnet18", "mobilenet-v2", "efficientnet-v2-b0"], strategies = ["random", "tpe", "hyperband"];
    return Enumerable.Range(0, count).Select(e => new Experiment
    {
        Id = $"exp{e:D3}",
        CreatedAt = t0.AddHours(e),
        Spec = new ExperimentSpec { Name = $"sweep {e}", Model = models[e % models.Length], Strategy = strategies[e % strategies.Length] },
    }).ToList();
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

static string Cpu() => File.Exists("/proc/cpuinfo")
    ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
    : "?";

static Trial Trial(int i, Random random, string experimentId, DateTimeOffset t0)
{
    var state = (i % 20) switch { 0 => TrialState.Running, 1 => TrialState.Queued, 2 => TrialState.Failed, 3 or 4 => TrialState.Pruned, _ => TrialState.Completed };
    bool finished = state is not (TrialState.Running or TrialState.Queued);
    double f1 = Math.Round(random.NextDouble(), 6);
    var metrics = !finished ? new Dictionary<string, double>() : new Dictionary<string, double>
    {
        [MetricNames.TrainLoss] = random.NextDouble(), [MetricNames.ValLoss] = random.NextDouble(), [MetricNames.ValAccuracy] = random.NextDouble(),
        [MetricNames.ValF1Macro] = f1, [MetricNames.ValF1Weighted] = random.NextDouble(), [MetricNames.LearningRate] = random.NextDouble(),
        [MetricNames.EpochSeconds] = random.NextDouble() * 30, [MetricNames.ImagesPerSecond] = random.NextDouble() * 5000,
    };
    var parameters = new Dictionary<string, ParameterValue>
    {
        ["learning_rate"] = Math.Exp(random.NextDouble() * Math.Log(1e-5)), ["batch_size"] = new[] { 16, 32, 64, 128 }[random.Next(4)],
        ["optimizer"] = new[] { "adam", "sgd", "adamw" }[random.Next(3)], ["dropout"] = random.NextDouble() * 0.5,
    };
    return new Trial
    {
        Id = $"t{i:D6}",
        ExperimentId = experimentId,
        Number = i / 20,
        Parameters = parameters,
        ResolvedParameters = new(parameters) { ["weight_decay"] = 1e-4, ["epochs"] = 10 },
        State = state,
        Epochs = 10,
        EpochsDone = finished ? 10 : 3,
        Intermediate = [.. Enumerable.Range(1, finished ? 10 : 3).Select(s => new IntermediateValue(s, f1 * s / 10))],
        Objective = state == TrialState.Completed ? f1 : null,
        FinalMetrics = metrics,
        Tags = i % 100 == 0 ? ["baseline"] : [],
        Notes = i % 500 == 0 ? "checked by hand" : null,
        CreatedAt = t0.AddSeconds(i),
        StartedAt = t0.AddSeconds(i + 1),
        FinishedAt = finished ? t0.AddSeconds(i + 100) : null,
    };
}

string? TextOption(string name, string? fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}

int Option(string name, int fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], out var v) ? v : fallback;
}
