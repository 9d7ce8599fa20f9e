using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Miaoya.Fleet;
using Miaoya.MockWebUi;
using Miaoya.Runner;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Server.Tests;

/// <summary>
/// <c>POST /v1/idphoto</c>: an ID-photo job runs through the job store and engine like a portrait job (events, GET, outputs,
/// listing, DELETE, restart), its photo matches the spec and its verdict passes; bad input is refused naming the field;
/// <c>POST /v1/idphoto/check</c> answers the same verdict at once.
/// </summary>
public sealed class IdPhotoApiTests
{
    /// <summary>A multipart ID-photo submission of <paramref name="photo"/> (default: the astronaut) with the given fields.</summary>
    internal static MultipartFormDataContent Form(byte[]? photo = null, string photoName = "astronaut.png", params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        var image = new ByteArrayContent(photo ?? File.ReadAllBytes(ServerHarness.Astronaut));
        image.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(image, "photo", photoName);
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return form;
    }

    [Fact]
    public async Task Submit_RunsAsAJob_PhotoMatchesTheSpec_VerdictPasses_ListedWithItsKind_Deleted()
    {
        // Arrange
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        using var form = Form(null, "astronaut.png", ("spec", "cn-1inch"), ("background", "white"), ("sheet", "6inch"), ("identity", "customer-17"));

        // Act
        using var response = await h.Client.PostAsync("/v1/idphoto", form);
        var body = await response.Content.ReadAsStringAsync();

        // Assert: queued as a job of kind idphoto with the one step finish, the settings resolved.
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        var job = JsonDocument.Parse(body).RootElement;
        var id = job.GetProperty("id").GetString()!;
        Assert.Equal($"/v1/jobs/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("idphoto", job.GetProperty("kind").GetString());
        Assert.Equal("customer-17", job.GetProperty("identity").GetString());
        Assert.Equal(["finish"], job.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        var settings = job.GetProperty("idphoto");
        Assert.Equal(("cn-1inch", "white", 300, "6inch"), (settings.GetProperty("spec").GetString(), settings.GetProperty("background").GetString(), settings.GetProperty("dpi").GetInt32(), settings.GetProperty("sheet").GetString()));
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));

        var events = await h.ReadEventsAsync(id);
        Assert.Equal("job_created", events[0].Name);
        Assert.Contains(events, e => e.Name == "step_started" && e.Data.GetProperty("step").GetString() == "finish");
        // Its call (rembg) went to the box, like a portrait step's.
        Assert.Contains(events, e => e.Name == "step_progress" && e.Data.GetProperty("data").TryGetProperty("box", out var box) && box.ValueKind == JsonValueKind.String && box.GetString() == "box0");
        Assert.Equal("job_succeeded", events[^1].Name);

        var done = JsonDocument.Parse(await h.Client.GetStringAsync($"/v1/jobs/{id}")).RootElement;
        Assert.Equal("succeeded", done.GetProperty("state").GetString());
        var finish = Assert.Single(done.GetProperty("steps").EnumerateArray());
        Assert.Equal("box0", finish.GetProperty("box").GetString());
        var files = done.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("file").GetString()!).ToArray();
        Assert.Equal(["cn-1inch-300dpi.jpg", "idphoto-mask.png", "sheet-6inch.jpg", "verdict.json"], files);
        Assert.Equal($"/v1/jobs/{id}/outputs/cn-1inch-300dpi.jpg", done.GetProperty("final").GetString());

        // The photo: 25×35 mm at 300 dpi, as listed.
        var photo = await h.Client.GetByteArrayAsync(done.GetProperty("final").GetString());
        var listed = done.GetProperty("outputs").EnumerateArray().First();
        Assert.Equal(listed.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(photo)));
        var info = Image.Identify(photo);
        Assert.Equal((295, 413), (info.Width, info.Height));
        var sheet = Image.Identify(await h.Client.GetByteArrayAsync($"/v1/jobs/{id}/outputs/sheet-6inch.jpg"));
        Assert.True(sheet.Width > 295 * 2 && sheet.Height > 413, $"the sheet is {sheet.Width}×{sheet.Height}");

        // The verdict passes every rule, document-safe (nothing generative ran), in the shape of idphoto check --json.
        var verdict = JsonDocument.Parse(await h.Client.GetStringAsync($"/v1/jobs/{id}/outputs/verdict.json")).RootElement;
        Assert.True(verdict.GetProperty("passed").GetBoolean(), verdict.GetRawText());
        Assert.False(verdict.GetProperty("generated").GetBoolean());
        Assert.Equal("document-safe", verdict.GetProperty("mode").GetString());
        Assert.Equal(Miaoya.IdPhoto.ComplianceChecker.RuleIds, verdict.GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("id").GetString()!));
        Assert.False(verdict.GetProperty("rules").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "background_rim").GetProperty("skipped").GetBoolean());

        // The check endpoint gives the same verdict for the downloaded photo and its matte.
        var mask = await h.Client.GetByteArrayAsync($"/v1/jobs/{id}/outputs/idphoto-mask.png");
        using var check = Form(photo, "cn-1inch-300dpi.jpg", ("spec", "cn-1inch"));
        check.Add(new ByteArrayContent(mask) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } }, "mask", "idphoto-mask.png");
        using var checkResponse = await h.Client.PostAsync("/v1/idphoto/check", check);
        var checkBody = await checkResponse.Content.ReadAsStringAsync();
        Assert.True(checkResponse.StatusCode == HttpStatusCode.OK, checkBody);
        var checkedVerdict = JsonDocument.Parse(checkBody).RootElement;
        Assert.True(checkedVerdict.GetProperty("passed").GetBoolean(), checkBody);
        Assert.Equal(
            verdict.GetProperty("rules").EnumerateArray().Select(r => (r.GetProperty("id").GetString(), r.GetProperty("passed").GetBoolean(), r.GetProperty("skipped").GetBoolean())),
            checkedVerdict.GetProperty("rules").EnumerateArray().Select(r => (r.GetProperty("id").GetString(), r.GetProperty("passed").GetBoolean(), r.GetProperty("skipped").GetBoolean())));

        // Listed with its kind.
        var listing = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/jobs?state=succeeded")).RootElement.GetProperty("jobs");
        Assert.Equal("idphoto", listing.EnumerateArray().Single(j => j.GetProperty("id").GetString() == id).GetProperty("kind").GetString());

        // DELETE removes the records and every file.
        using var deleted = await h.Client.DeleteAsync($"/v1/jobs/{id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(h.JobsDirectory, id)));
        using var gone = await h.Client.GetAsync($"/v1/jobs/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Submit_BadInput_400NamingTheField_NothingQueued()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1, configure: o => o with { MaxImageBytes = 900_000 });
        var noFace = new byte[64 * 64 * 3];
        Array.Fill(noFace, (byte)200);
        using var plain = Image.LoadPixelData<Rgb24>(noFace, 64, 64);
        using var plainPng = new MemoryStream();
        await plain.SaveAsPngAsync(plainPng);

        // The spec is unknown: the known ones are listed.
        var spec = await RefusedAsync(h, Form(null, "astronaut.png", ("spec", "cn-9inch")), "spec");
        Assert.Contains("cn-1inch", spec, StringComparison.Ordinal);
        Assert.Contains("us-2x2", spec, StringComparison.Ordinal);
        // A background the spec forbids is refused before anything is queued, as the CLI does.
        var background = await RefusedAsync(h, Form(null, "astronaut.png", ("spec", "us-2x2"), ("background", "blue")), "background");
        Assert.Contains("white", background, StringComparison.Ordinal);
        await RefusedAsync(h, Form(null, "astronaut.png", ("spec", "cn-1inch"), ("background", "mauve-ish")), "background");
        await RefusedAsync(h, Form(null, "astronaut.png", ("spec", "cn-1inch"), ("dpi", "72")), "dpi");
        await RefusedAsync(h, Form(null, "astronaut.png", ("spec", "cn-1inch"), ("kb", "0")), "kb");
        await RefusedAsync(h, Form(null, "astronaut.png", ("spec", "cn-1inch"), ("sheet", "poster")), "sheet");
        await RefusedAsync(h, Form(null, "astronaut.png", ("spec", "cn-1inch"), ("format", "gif")), "format");
        await RefusedAsync(h, Form(null, "astronaut.png"), "spec");
        // The photo: not an image, no face, too large (the server's upload limit), missing.
        await RefusedAsync(h, Form(Encoding.UTF8.GetBytes("this is not a photo"), "photo.png", ("spec", "cn-1inch")), "photo");
        var face = await RefusedAsync(h, Form(plainPng.ToArray(), "wall.png", ("spec", "cn-1inch")), "photo");
        Assert.Contains("no face", face, StringComparison.Ordinal);
        var large = new MultipartFormDataContent { { new ByteArrayContent(new byte[1_000_000]), "photo", "big.png" }, { new StringContent("cn-1inch"), "spec" } };
        await RefusedAsync(h, large, "photo", HttpStatusCode.RequestEntityTooLarge);
        await RefusedAsync(h, new MultipartFormDataContent { { new StringContent("cn-1inch"), "spec" } }, "photo");
        await RefusedAsync(h, new StringContent("{\"spec\":\"cn-1inch\"}", Encoding.UTF8, "application/json"), "body", HttpStatusCode.UnsupportedMediaType);

        Assert.Empty(JsonDocument.Parse(await h.Client.GetStringAsync("/v1/jobs")).RootElement.GetProperty("jobs").EnumerateArray());
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));
        Assert.Empty(Directory.EnumerateDirectories(h.JobsDirectory));

        // The check refuses the same way.
        await RefusedAsync(h, Form(null, "astronaut.png", ("spec", "nowhere")), "spec", path: "/v1/idphoto/check");
        await RefusedAsync(h, Form(null, "astronaut.png", ("spec", "cn-1inch"), ("dpi", "96")), "dpi", path: "/v1/idphoto/check");
    }

    [Fact]
    public async Task Check_AnUnfinishedPhoto_200WithFailedRulesAndTheirFixes()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        using var form = Form(null, "astronaut.png", ("spec", "cn-1inch"));
        using var response = await h.Client.PostAsync("/v1/idphoto/check", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var verdict = JsonDocument.Parse(body).RootElement;
        Assert.False(verdict.GetProperty("passed").GetBoolean());
        Assert.Contains("pixel_size", verdict.GetProperty("failed").EnumerateArray().Select(f => f.GetString()));
        var pixelSize = verdict.GetProperty("rules").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "pixel_size");
        Assert.Contains("295×413", pixelSize.GetProperty("hint").GetString(), StringComparison.Ordinal);
        // No matte given: the rim rule is skipped.
        Assert.True(verdict.GetProperty("rules").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "background_rim").GetProperty("skipped").GetBoolean());

        var specs = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/idphoto/specs")).RootElement;
        var us = specs.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "us-2x2");
        Assert.Contains(us.GetProperty("pixels").EnumerateArray(), p => p.GetProperty("dpi").GetInt32() == 300 && p.GetProperty("width").GetInt32() == 600 && p.GetProperty("height").GetInt32() == 600);
    }

    [Fact]
    public async Task Queued_ByAnApiOnlyInstance_RunByTheNextInstance()
    {
        // An API-only instance queues the job; the store keeps it, and an instance with a worker started later runs it.
        using var box = MockWebUiServer.Start();
        var folder = Directory.CreateTempSubdirectory("miaoya-idphoto-").FullName;
        try
        {
            var options = new ServerOptions
            {
                Urls = ["http://127.0.0.1:0"],
                ApiKey = ServerHarness.Key,
                Boxes = [new BoxOptions { Name = "box0", Url = box.Url }],
                ConfigureFleet = f => f.HealthInterval = TimeSpan.FromMilliseconds(200),
                Runner = new JobRunnerOptions { JobsDirectory = Path.Combine(folder, "jobs"), OwnershipCheckInterval = TimeSpan.FromMilliseconds(500), PollInterval = TimeSpan.FromMilliseconds(50) },
            };

            string id;
            await using (var apiOnly = await MiaoyaServer.StartAsync(options with { NoWorker = true }))
            {
                using var client = Client(apiOnly);
                using var form = Form(null, "astronaut.png", ("spec", "icao-35x45"), ("background", "light-grey"), ("kb", "60"));
                using var submitted = await client.PostAsync("/v1/idphoto", form);
                Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
                id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
                await Task.Delay(500);
                Assert.Equal("queued", (await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}")).GetProperty("state").GetString());
                await apiOnly.StopAsync();
            }

            await using (var worker = await MiaoyaServer.StartAsync(options))
            {
                using var client = Client(worker);
                var events = await ServerHarness.ReadEventsAsync(client, id);
                Assert.Equal("job_succeeded", events[^1].Name);
                var done = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");
                var photo = await client.GetByteArrayAsync(done.GetProperty("final").GetString());
                var info = Image.Identify(photo);
                Assert.Equal((413, 531), (info.Width, info.Height)); // 35×45 mm at 300 dpi
                Assert.True(photo.Length <= 60 * 1024, $"{photo.Length} bytes, asked for at most 60 KB");
                var verdict = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/outputs/verdict.json");
                Assert.True(verdict.GetProperty("passed").GetBoolean(), verdict.GetRawText());
                await worker.StopAsync();
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task BoxFailsTheRembgCall_TheStepIsRetried_LikeAPortraitStep()
    {
        // Arrange: one attempt per call, and the box's first rembg answer is a 500: the finish step's first attempt fails.
        await using var h = await ServerHarness.StartAsync(boxes: 1, configure: o => o with
        {
            ConfigureFleet = f =>
            {
                f.HealthInterval = TimeSpan.FromMilliseconds(200);
                f.MaxAttempts = 1;
            },
        });
        h.Boxes[0].AddFault(new MockFault("/rembg") { Times = 1 });

        // Act
        using var form = Form(null, "astronaut.png", ("spec", "cn-2inch"), ("background", "blue"));
        var id = (await SubmitAsync(h, form)).GetProperty("id").GetString()!;
        var events = await h.ReadEventsAsync(id);

        // Assert: retried by the store with a step_retrying event, then done; the photo is 2-inch (35×49 mm) at 300 dpi.
        Assert.Contains(events, e => e.Name == "step_retrying" && e.Data.GetProperty("step").GetString() == "finish");
        Assert.Equal("job_succeeded", events[^1].Name);
        var done = JsonDocument.Parse(await h.Client.GetStringAsync($"/v1/jobs/{id}")).RootElement;
        Assert.Equal(2, Assert.Single(done.GetProperty("steps").EnumerateArray()).GetProperty("attempts").GetInt32());
        var info = Image.Identify(await h.Client.GetByteArrayAsync(done.GetProperty("final").GetString()));
        Assert.Equal((413, 579), (info.Width, info.Height));
    }

    private static async Task<JsonElement> SubmitAsync(ServerHarness h, HttpContent content)
    {
        using var response = await h.Client.PostAsync("/v1/idphoto", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<string> RefusedAsync(ServerHarness h, HttpContent content, string field, HttpStatusCode status = HttpStatusCode.BadRequest, string path = "/v1/idphoto")
    {
        using (content)
        {
            using var response = await h.Client.PostAsync(path, content);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{field}: {response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(body).RootElement;
            Assert.Equal(field, problem.GetProperty("field").GetString());
            return problem.GetProperty("errors").GetProperty(field)[0].GetString()!;
        }
    }

    private static HttpClient Client(MiaoyaServer server)
    {
        var client = new HttpClient { BaseAddress = server.Urls[0] };
        client.DefaultRequestHeaders.Add("X-Api-Key", ServerHarness.Key);
        return client;
    }
}
