using System.Net.Http.Json;
using System.Text.Json;
using Tracker.Core;
using Tracker.Core.Experiments;

namespace Tracker.Server.Tests;

/// <summary>Small helpers over the REST API, typed with the server's own records.</summary>
internal static class Api
{
    public static readonly JsonSerializerOptions Json = TrackerJson.Options;

    /// <summary>The spec of the skeleton's reference experiment: small CNN, random search, tiny generated images.</summary>
    public static object TinySpec(int trials = 3, int epochs = 2, string name = "tiny") => new
    {
        name,
        model = "small-cnn",
        strategy = "random",
        dataset = new { name = "shapes", options = new { classes = 3, image_size = 12, samples = 150 } },
        searchSpace = new { parameters = new object[] { new { type = "float", name = "learning_rate", low = 1e-3, high = 3e-2, log = true } } },
        maxTrials = trials,
        epochs,
        seed = 7,
    };

    public static async Task<Experiment> CreateAsync(HttpClient client, object spec)
    {
        var response = await client.PostAsJsonAsync("/api/experiments", spec, Json);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Experiment>(Json))!;
    }

    public static async Task<ExperimentSummary> WaitUntilAsync(HttpClient client, string experimentId, Func<ExperimentSummary, bool> done, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var summary = (await client.GetFromJsonAsync<ExperimentSummary>($"/api/experiments/{experimentId}", Json))!;
            if (done(summary)) return summary;
            if (DateTime.UtcNow > deadline) Assert.Fail($"experiment {experimentId} did not reach the expected state in {seconds}s; it is {summary.Experiment.State} with {summary.TrialCount} trials.");
            await Task.Delay(200);
        }
    }

    public static async Task<List<Trial>> TrialsAsync(HttpClient client, string experimentId) =>
        (await client.GetFromJsonAsync<List<Trial>>($"/api/experiments/{experimentId}/trials", Json))!;
}
