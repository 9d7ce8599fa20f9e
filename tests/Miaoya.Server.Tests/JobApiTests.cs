using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SixLabors.ImageSharp;

namespace Miaoya.Server.Tests;

public sealed class JobApiTests
{
    [Fact]
    public async Task Submit_EventsUntilFinished_GetJob_DownloadOutput()
    {
        await using var h = await ServerHarness.StartAsync(latency: TimeSpan.FromMilliseconds(300));
        using var form = ServerHarness.Form("v2", null, ("seed", "1234"), ("identity", "customer-17"), ("trigger", "mxface, photo"));
        using var response = await h.Client.PostAsync("/v1/jobs", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        var job = JsonDocument.Parse(body).RootElement;
        var id = job.GetProperty("id").GetString()!;
        Assert.Equal($"/v1/jobs/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("v2", job.GetProperty("recipe").GetString());
        Assert.Equal("customer-17", job.GetProperty("identity").GetString());
        Assert.Equal(["interrogate", "mask", "inpaint", "img2img"], job.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        // The upload waited in its temporary folder only until the job's folder had its copy.
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));
        Assert.True(File.Exists(Path.Combine(h.JobsDirectory, id, "template.png")));

        var events = await h.ReadEventsAsync(id);
        var names = events.Select(e => e.Name).ToList();
        Assert.Equal("job_created", names[0]);
        Assert.Equal("job_succeeded", names[^1]);
        foreach (var step in new[] { "interrogate", "mask", "inpaint", "img2img" })
        {
            Assert.Contains(events, e => e.Name == "step_started" && e.Data.GetProperty("step").GetString() == step);
            Assert.Contains(events, e => e.Name == "step_finished" && e.Data.GetProperty("step").GetString() == step);
        }

        var progress = events.Where(e => e.Name == "step_progress").ToList();
        Assert.Contains(progress, e => e.Data.GetProperty("step").GetString() == "inpaint" && e.Data.GetProperty("data").GetProperty("box").GetString() is "box0" or "box1");
        Assert.All(events, e =>
        {
            Assert.True(e.Data.TryGetProperty("eta_s", out _), $"{e.Name} carries the job's ETA");
            Assert.Equal(e.Id, e.Data.GetProperty("sequence").GetInt64());
        });
        Assert.Equal(events.Select(e => e.Id!.Value).Order(), events.Select(e => e.Id!.Value));
        Assert.Equal(0, events[^1].Data.GetProperty("eta_s").GetDouble());

        // Reconnecting with Last-Event-ID gives only the later events, and ends at once (the job is finished).
        var middle = events[events.Count / 2].Id!.Value;
        var resumed = await h.ReadEventsAsync(id, middle);
        Assert.Equal(events.Where(e => e.Id > middle).Select(e => e.Id), resumed.Select(e => e.Id));

        var done = JsonDocument.Parse(await h.Client.GetStringAsync($"/v1/jobs/{id}")).RootElement;
        Assert.Equal("succeeded", done.GetProperty("state").GetString());
        foreach (var step in done.GetProperty("steps").EnumerateArray())
        {
            Assert.Equal("succeeded", step.GetProperty("state").GetString());
            Assert.Equal(1, step.GetProperty("attempts").GetInt32());
            Assert.True(step.GetProperty("duration_s").GetDouble() >= 0);
            Assert.NotEqual(JsonValueKind.Null, step.GetProperty("started_at").ValueKind);
        }

        var inpaint = done.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "inpaint");
        Assert.StartsWith("box", inpaint.GetProperty("box").GetString(), StringComparison.Ordinal);
        var final = done.GetProperty("final").GetString()!;
        Assert.Equal($"/v1/jobs/{id}/outputs/final.png", final);
        var listed = done.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("file").GetString() == "final.png");

        using var download = await h.Client.GetAsync(final);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("image/png", download.Content.Headers.ContentType?.MediaType);
        var bytes = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal(listed.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
        var info = Image.Identify(bytes);
        Assert.Equal((512, 512), (info.Width, info.Height));

        // The list, filtered by state.
        var succeeded = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/jobs?state=succeeded")).RootElement.GetProperty("jobs");
        Assert.Contains(succeeded.EnumerateArray(), j => j.GetProperty("id").GetString() == id);
        var queued = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/jobs?state=queued")).RootElement.GetProperty("jobs");
        Assert.Empty(queued.EnumerateArray());

        // A second job has an ETA before it finishes: the first one's step durations are its history.
        using var second = ServerHarness.Form("v2", null, ("seed", "7"));
        var next = await h.SubmitAsync(second);
        Assert.Equal(JsonValueKind.Number, next.GetProperty("eta_s").ValueKind);
        Assert.True(next.GetProperty("eta_s").GetDouble() > 0);
        await h.ReadEventsAsync(next.GetProperty("id").GetString()!);
    }

    [Fact]
    public async Task Outputs_OnlyListedFiles_NoPathTraversal()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        using var form = ServerHarness.Form("v1-face", null, ("seed", "5"));
        var id = (await h.SubmitAsync(form)).GetProperty("id").GetString()!;
        var events = await h.ReadEventsAsync(id);
        Assert.Equal("job_succeeded", events[^1].Name);

        // template.png and manifest.json exist in the folder but no step lists them; the store file sits one level up.
        Assert.True(File.Exists(Path.Combine(h.JobsDirectory, id, "template.png")));
        foreach (var path in new[] { "template.png", "manifest.json", "..%2Fjobs.db", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "nothing.png" })
        {
            using var response = await h.Client.GetAsync($"/v1/jobs/{id}/outputs/{path}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        // Kestrel itself refuses a NUL in the path.
        using var nul = await h.Client.GetAsync($"/v1/jobs/{id}/outputs/final.png%00");
        Assert.NotEqual(HttpStatusCode.OK, nul.StatusCode);

        using var other = await h.Client.GetAsync("/v1/jobs/no-such-job/outputs/final.png");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        using var ok = await h.Client.GetAsync($"/v1/jobs/{id}/outputs/final.png");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Delete_DuringRun_InterruptsTheBox_RemovesEveryFile()
    {
        // Each box call takes 15 s unless interrupted (the tagger's too): the job is certainly rendering when it is deleted.
        await using var h = await ServerHarness.StartAsync(boxes: 2, latency: TimeSpan.FromSeconds(15));
        using var form = ServerHarness.Form("v2", null, ("seed", "99"));
        var id = (await h.SubmitAsync(form)).GetProperty("id").GetString()!;
        var folder = Path.Combine(h.JobsDirectory, id);
        Assert.True(Directory.Exists(folder));

        var events = await h.ReadEventsAsync(id, until: e =>
            e.Name == "step_progress" && e.Data.GetProperty("step").GetString() == "inpaint"
            && e.Data.GetProperty("data").TryGetProperty("box", out var box) && box.ValueKind == JsonValueKind.String);
        var boxName = events[^1].Data.GetProperty("data").GetProperty("box").GetString()!;
        var box = h.Boxes[int.Parse(boxName["box".Length..], System.Globalization.CultureInfo.InvariantCulture)];
        Assert.Equal(0, box.InterruptCount);
        // The box reported before its call was sent; wait until the box is rendering it (an interrupt before that is a no-op).
        using (var boxClient = new HttpClient { BaseAddress = box.Url })
        {
            while (JsonDocument.Parse(await boxClient.GetStringAsync("sdapi/v1/progress")).RootElement.GetProperty("state").GetProperty("job_count").GetInt32() == 0)
            {
                await Task.Delay(20);
            }
        }

        using var deleted = await h.Client.DeleteAsync($"/v1/jobs/{id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.True(box.InterruptCount >= 1, "the box rendering the job was interrupted");
        Assert.False(Directory.Exists(folder), "every file of the job is gone");
        using var gone = await h.Client.GetAsync($"/v1/jobs/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var again = await h.Client.DeleteAsync($"/v1/jobs/{id}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(h.JobsDirectory), p => !p.EndsWith(".db", StringComparison.Ordinal) && !p.Contains(".db-", StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));

        var list = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/jobs")).RootElement.GetProperty("jobs");
        Assert.Empty(list.EnumerateArray());
    }

    [Fact]
    public async Task Delete_FinishedJob_RemovesFolder_UnknownIs404()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        using var form = ServerHarness.Form("v1-face", null);
        var id = (await h.SubmitAsync(form)).GetProperty("id").GetString()!;
        await h.ReadEventsAsync(id);
        Assert.True(Directory.Exists(Path.Combine(h.JobsDirectory, id)));
        using var deleted = await h.Client.DeleteAsync($"/v1/jobs/{id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(h.JobsDirectory, id)));
        Assert.Equal(0, h.Boxes[0].InterruptCount);
        using var unknown = await h.Client.DeleteAsync("/v1/jobs/0190c0de-0000-7000-8000-000000000000");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var events = await h.Client.GetAsync($"/v1/jobs/{id}/events");
        Assert.Equal(HttpStatusCode.NotFound, events.StatusCode);
    }

    [Fact]
    public async Task Json_Submission_WithBase64Template_IsAccepted()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        var json = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["recipe"] = "v1-face",
            ["lora"] = "miaoya_demo_face",
            ["template"] = "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes(ServerHarness.Astronaut)),
            ["overrides"] = new[] { "inpaint.steps=20" },
            ["seed"] = 3,
        });
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var job = await h.SubmitAsync(content);
        Assert.Equal(["inpaint.steps=20"], job.GetProperty("overrides").EnumerateArray().Select(o => o.GetString()));
        Assert.Equal("template.png", job.GetProperty("template").GetString());
        var events = await h.ReadEventsAsync(job.GetProperty("id").GetString()!);
        Assert.Equal("job_succeeded", events[^1].Name);
    }

    [Fact]
    public async Task Backends_ListsBoxHealthLoadedModelAndQueue()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 2);
        JsonElement backends;
        do
        {
            // The fleet probes the boxes in the background after the listener is up.
            await Task.Delay(50);
            backends = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/backends")).RootElement;
        }
        while (backends.GetProperty("boxes").EnumerateArray().Any(b => b.GetProperty("health").GetString() != "healthy"));

        var boxes = backends.GetProperty("boxes").EnumerateArray().ToList();
        Assert.Equal(["box0", "box1"], boxes.Select(b => b.GetProperty("name").GetString()));
        Assert.Equal(h.Boxes[0].Url.ToString(), boxes[0].GetProperty("url").GetString());
        Assert.All(boxes, b =>
        {
            Assert.False(string.IsNullOrEmpty(b.GetProperty("loaded_checkpoint").GetString()));
            Assert.Equal(0, b.GetProperty("in_flight").GetInt32());
            Assert.True(b.TryGetProperty("model_switches", out _));
            Assert.Equal("A1111", b.GetProperty("backend").GetString());
            Assert.Equal("A1111 ≥ 1.10", b.GetProperty("server").GetString());
        });
        var queue = backends.GetProperty("queue");
        Assert.Equal(0, queue.GetProperty("queued_jobs").GetInt32());
        Assert.Equal(0, queue.GetProperty("running_jobs").GetInt32());
        Assert.Equal(0, queue.GetProperty("steps_running_here").GetInt32());

        using var form = ServerHarness.Form("v1-face", null);
        var id = (await h.SubmitAsync(form)).GetProperty("id").GetString()!;
        await h.ReadEventsAsync(id);
        backends = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/backends")).RootElement;
        Assert.True(backends.GetProperty("boxes").EnumerateArray().Sum(b => b.GetProperty("calls").GetInt64()) >= 1);
    }

    [Fact]
    public async Task OpenApiDocument_ListsTheRoutesAndTheKeyScheme()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        var document = JsonDocument.Parse(await h.Client.GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = document.GetProperty("paths");
        Assert.True(paths.GetProperty("/v1/jobs").TryGetProperty("post", out var post));
        Assert.True(paths.GetProperty("/v1/jobs").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/v1/jobs/{id}").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/v1/jobs/{id}").TryGetProperty("delete", out _));
        Assert.True(paths.GetProperty("/v1/jobs/{id}/events").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/v1/jobs/{id}/outputs/{file}").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/v1/backends").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/healthz").TryGetProperty("get", out _));
        Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        Assert.Equal("X-Api-Key", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").GetProperty("name").GetString());
    }

    [Fact]
    public async Task ApiKey_Required_ExceptHealthzAndTheApiReference()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        using var anonymous = new HttpClient { BaseAddress = h.Server.Urls[0] };

        using var noKey = await anonymous.GetAsync("/v1/jobs");
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal("application/problem+json", noKey.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await noKey.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        Assert.Contains("X-Api-Key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/v1/jobs") { Headers = { { "X-Api-Key", ServerHarness.Key[..^1] + "X" } } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(wrong)).StatusCode);
        using var submit = ServerHarness.Form();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/v1/jobs", submit)).StatusCode);
        // The API reference (the OpenAPI document and /docs) is open: it holds no data (OpenApiDocumentTests).
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/openapi/v1.json")).StatusCode);

        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/v1/jobs");
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ServerHarness.Key);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(bearer)).StatusCode);

        using var health = await anonymous.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Empty(Directory.EnumerateDirectories(h.JobsDirectory));
    }
}
