using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tracker.Tests;

namespace Tracker.Server.Tests;

/// <summary>
/// Artifacts stay in the server's artifact folder: an experiment's artifact location must lie inside it; no request path
/// (dot segments, encoded or not, absolute paths, symbolic links inside the folder) reads, lists or writes outside it;
/// and an image over the pixel limit is refused from its header, before it is decoded. Through the real server, on LiteDB.
/// </summary>
public sealed class ArtifactSafetyTests(MlflowServer server) : IClassFixture<MlflowServer>
{
    private readonly HttpClient client = server.Client;
    private readonly Mlflow api = server.Api;

    private string ArtifactRoot => server.Factory.ArtifactRoot;

    private string RootUri => new Uri(ArtifactRoot).AbsoluteUri;

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    // ---- Experiment artifact locations ----

    [Theory]
    [InlineData("file:///etc#")]
    [InlineData("file:///etc?x")]
    [InlineData("../../")]
    [InlineData("/etc")]
    [InlineData("file:///tmp/../etc")]
    [InlineData("file:/etc/passwd")]
    [InlineData("s3://bucket/tracker")]
    [InlineData("https://example.com/artifacts")]
    [InlineData("file://fileserver/share/artifacts")]
    [InlineData("{root}/../escape")]
    [InlineData("file://{root}/%2e%2e/escape")]
    [InlineData("file://{root}/%2E%2E%2Fescape")]
    [InlineData("file://{root}/inside#fragment")]
    [InlineData("file://{root}/inside?query=1")]
    [InlineData("{root}-sibling/inside")]
    [InlineData("{root}/inside\\..\\..\\escape")]
    [InlineData("mlflow-artifacts:/../escape")]
    [InlineData("mlflow-artifacts:/%2e%2e/escape")]
    [InlineData("mlflow-artifacts://otherhost/inside")]
    [InlineData("runs:/abc/model")]
    public async Task CreateExperiment_ArtifactLocationOutsideTheArtifactFolder_InvalidParameterValue(string location)
    {
        string name = Unique("outside");
        string given = location.Replace("{root}", ArtifactRoot);

        var error = await api.PostAsync("experiments/create", new { name, artifact_location = given }, HttpStatusCode.BadRequest);

        Mlflow.AssertError(error, "INVALID_PARAMETER_VALUE", "rtifact location");
        Mlflow.AssertError(await api.GetAsync($"experiments/get-by-name?experiment_name={name}", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
    }

    [Theory]
    [InlineData("{root}/team-a", "{rootUri}/team-a")]
    [InlineData("file://{root}/team-b/", "{rootUri}/team-b")]
    [InlineData("file://localhost{root}/team-c", "{rootUri}/team-c")]
    [InlineData("file://{root}/x/../team-d", "{rootUri}/team-d")]
    [InlineData("file://{root}/team%20e", "{rootUri}/team%20e")]
    [InlineData("team-f/nested", "{rootUri}/team-f/nested")]
    [InlineData("mlflow-artifacts:/team-g", "mlflow-artifacts:/team-g")]
    public async Task CreateExperiment_ArtifactLocationInsideTheFolder_IsKeptAsAFileUri(string location, string expected)
    {
        string given = location.Replace("{root}", ArtifactRoot);
        string stored = expected.Replace("{rootUri}", RootUri);

        string id = (await api.PostAsync("experiments/create", new { name = Unique("inside"), artifact_location = given })).GetProperty("experiment_id").GetString()!;

        var experiment = (await api.GetAsync($"experiments/get?experiment_id={id}")).GetProperty("experiment");
        Assert.Equal(stored, experiment.GetProperty("artifact_location").GetString());
        var run = await api.CreateRunAsync(id);
        string runId = run.GetProperty("info").GetProperty("run_id").GetString()!;
        Assert.Equal($"{stored}/{runId}/artifacts", run.GetProperty("info").GetProperty("artifact_uri").GetString());
    }

    // ---- Reading, listing and writing artifacts ----

    /// <summary>A run with one artifact, ok.txt, and two links in its folder to a folder outside the artifact folder.</summary>
    private async Task<(string Run, string Secret, string Outside)> RunWithLinksAsync()
    {
        var created = await client.PostAsJsonAsync("/api/runs", new { experiment = Unique("paths") });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string run = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using var fine = new ByteArrayContent("fine"u8.ToArray());
        fine.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync($"/api/runs/{run}/artifacts/ok.txt", fine)).StatusCode);

        string outside = Path.Combine(server.Factory.DataFolder, $"outside-{run}");
        Directory.CreateDirectory(outside);
        string secret = $"secret-{Guid.NewGuid():N}";
        await File.WriteAllTextAsync(Path.Combine(outside, "secret.txt"), secret);
        string trialFolder = Path.Combine(ArtifactRoot, run);
        File.CreateSymbolicLink(Path.Combine(trialFolder, "link-file.txt"), Path.Combine(outside, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(trialFolder, "link-dir"), outside);
        return (run, secret, outside);
    }

    [Theory]
    [InlineData("GET", "/api/runs/{run}/artifacts/../../{outside}/secret.txt", 400)]
    [InlineData("GET", "/api/runs/{run}/artifacts/%2e%2e/%2e%2e/{outside}/secret.txt", 400)]
    [InlineData("GET", "/api/runs/{run}/artifacts/..%2F..%2F{outside}%2Fsecret.txt", 404)] // %2F stays in the name, as Kestrel keeps it
    [InlineData("GET", "/api/runs/{run}/artifacts/{absolute}/secret.txt", 400)]
    [InlineData("GET", "/api/runs/{run}/artifacts/link-file.txt", 404)]
    [InlineData("GET", "/api/runs/{run}/artifacts/link-dir/secret.txt", 404)]
    [InlineData("GET", "/api/runs/..%2F..%2F{outside}/artifacts/secret.txt", 404)]
    [InlineData("PUT", "/api/runs/{run}/artifacts/link-dir/planted.txt", 400)]
    [InlineData("PUT", "/api/runs/{run}/artifacts/../../{outside}/planted.txt", 400)]
    [InlineData("GET", "/api/2.0/mlflow/artifacts/list?run_id={run}&path=../..", 400)]
    [InlineData("GET", "/api/2.0/mlflow/artifacts/list?run_id={run}&path=%2e%2e%2F%2e%2e%2F{outside}", 400)]
    [InlineData("GET", "/api/2.0/mlflow/artifacts/list?run_id={run}&path={absolute}", 400)]
    [InlineData("GET", "/api/2.0/mlflow/artifacts/list?run_id={run}&path=link-dir", 200)]
    [InlineData("GET", "/api/2.0/mlflow/artifacts/list?run_id={run}", 200)]
    [InlineData("GET", "/api/runs/{run}/artifacts", 200)]
    public async Task Artifacts_PathsOutOfTheFolder_NeverReachIt(string method, string target, int status)
    {
        var (run, secret, outside) = await RunWithLinksAsync();
        target = target.Replace("{run}", run).Replace("{outside}", Path.GetFileName(outside)).Replace("{absolute}", outside);
        int query = target.IndexOf('?');

        // Sent as written (HttpClient would resolve dot segments), decoded as Kestrel decodes a request target.
        var answer = await server.Factory.Server.SendAsync(context =>
        {
            context.Request.Method = method;
            context.Request.Headers.Authorization = $"Bearer {TrackerServerFactory.TestKey}";
            context.Request.Path = PathString.FromUriComponent(query < 0 ? target : target[..query]);
            if (query >= 0) context.Request.QueryString = QueryString.FromUriComponent(target[query..]);
            if (method == HttpMethods.Put)
            {
                context.Request.ContentType = "text/plain";
                context.Request.Body = new MemoryStream("planted"u8.ToArray());
            }
        });
        string body = await new StreamReader(answer.Response.Body).ReadToEndAsync();

        Assert.True(answer.Response.StatusCode == status, $"{method} {target}: {answer.Response.StatusCode} {body}");
        Assert.DoesNotContain(secret, body);
        Assert.Equal(["secret.txt"], Directory.EnumerateFiles(outside).Select(Path.GetFileName));
        if (status == 200)
        {
            Assert.DoesNotContain("secret.txt", body);
            Assert.DoesNotContain("link-", body);
            if (!target.Contains("path=link-dir", StringComparison.Ordinal)) Assert.Contains("ok.txt", body);
        }
    }

    // ---- Image pixel limit ----

    [Fact]
    public async Task Upload_ImagesOverThePixelLimit_RefusedFromTheirHeaderAndTheServerKeepsServing()
    {
        var created = await client.PostAsJsonAsync("/api/runs", new { experiment = Unique("pixels") });
        string run = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        byte[] png = TestImages.SolidGreyPng(7000, 7000);
        Assert.True(png.Length < 150_000, $"the PNG has {png.Length} bytes");
        byte[] jpeg = JpegHeader(width: 8000, height: 6000);

        foreach (var (path, bytes, type, size) in new[] { ("huge.png", png, "image/png", "7000×7000"), ("huge.jpg", jpeg, "image/jpeg", "8000×6000") })
        {
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue(type);
            var response = await client.PutAsync($"/api/runs/{run}/artifacts/{path}", content);

            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            string detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
            Assert.Contains($"The image is {size} pixels", detail);
            Assert.Contains("at most 40,000,000 are allowed (Tracking:MaxImagePixels)", detail);
        }

        Assert.Empty(await client.GetFromJsonAsync<JsonElement[]>($"/api/runs/{run}/artifacts") ?? []);
        var health = await client.GetFromJsonAsync<JsonElement>("/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
    }

    private static byte[] JpegHeader(int width, int height) =>
    [
        0xFF, 0xD8,
        0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
        0xFF, 0xC0, 0x00, 0x11, 0x08, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width,
        0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
        0xFF, 0xD9,
    ];
}
