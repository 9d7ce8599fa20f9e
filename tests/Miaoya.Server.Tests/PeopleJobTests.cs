using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Miaoya.Fleet;
using Miaoya.MockWebUi;
using Miaoya.Runner;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Server.Tests;

/// <summary>Several people in one job (<c>people</c> of <c>POST /v1/jobs</c>), JSON and multipart, against the mock WebUI with the shipped two-face template.</summary>
public sealed class PeopleJobTests
{
    private static string Duo => Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut-duo.png");

    private static string DataUrl(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>A JSON submission of the two-face template with <paramref name="people"/> and any other fields.</summary>
    private static StringContent People(string recipe, JsonArray people, params (string Name, JsonNode? Value)[] fields)
    {
        var body = new JsonObject { ["template"] = DataUrl(File.ReadAllBytes(Duo)), ["recipe"] = recipe, ["people"] = people };
        foreach (var (name, value) in fields)
        {
            body[name] = value;
        }

        return Json(body);
    }

    private static JsonArray TwoLoraPeople() =>
    [
        new JsonObject { ["face_index"] = 1, ["lora"] = "add_detail", ["lora_weight"] = 0.6 },
        new JsonObject { ["face_index"] = 0, ["lora"] = "miaoya_demo_face:0.9" },
    ];

    /// <summary>The two people of <see cref="TwoLoraPeople"/>, each with their LoRA's trigger words: a list, and one comma-separated string.</summary>
    private static JsonArray TwoLoraPeopleWithTriggers() =>
    [
        new JsonObject { ["face_index"] = 1, ["lora"] = "add_detail", ["lora_weight"] = 0.6, ["trigger"] = "ben_mya, man" },
        new JsonObject { ["face_index"] = 0, ["lora"] = "miaoya_demo_face:0.9", ["trigger"] = new JsonArray("anna_mya") },
    ];

    /// <summary>The prompts of the img2img calls a box got: the per-face inpaint calls (with a mask), or the others.</summary>
    private static string[] Img2ImgPrompts(MockWebUiServer box, bool masked) => box.WireMock.LogEntries
        .Where(e => e.RequestMessage!.Path == "/sdapi/v1/img2img" && e.RequestMessage.Body!.Contains("\"mask\"", StringComparison.Ordinal) == masked)
        .Select(e => JsonDocument.Parse(e.RequestMessage!.Body!).RootElement.GetProperty("prompt").GetString()!)
        .ToArray();

    /// <summary>A multipart submission of the two-face template: <c>people</c> as JSON text, each person's photos as <c>people[N].faces</c>.</summary>
    private static MultipartFormDataContent Form(string recipe, string people, params (string Field, string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        var template = new ByteArrayContent(File.ReadAllBytes(Duo));
        template.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(template, "template", "astronaut-duo.png");
        form.Add(new StringContent(recipe), "recipe");
        form.Add(new StringContent(people), "people");
        foreach (var (field, name, bytes) in files)
        {
            var file = new ByteArrayContent(bytes);
            file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(file, field, name);
        }

        return form;
    }

    private static async Task<JsonElement> FinishedAsync(ServerHarness h, JsonElement queued)
    {
        var id = queued.GetProperty("id").GetString()!;
        await h.ReadEventsAsync(id);
        return JsonDocument.Parse(await h.Client.GetStringAsync($"/v1/jobs/{id}")).RootElement.Clone();
    }

    private static IEnumerable<string> Files(JsonElement job, string step) =>
        job.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == step)
            .GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("file").GetString()!);

    [Fact]
    public async Task JsonJob_V2_TwoPeople_OneInpaintPerFace_EachWithTheirOwnTrigger_TheViewAndTheManifestRecordThePeople()
    {
        // Arrange
        await using var h = await ServerHarness.StartAsync(boxes: 1);

        // Act
        var queued = await h.SubmitAsync(People("v2", TwoLoraPeopleWithTriggers(), ("seed", 5)));
        var job = await FinishedAsync(h, queued);

        // Assert: the view lists the people by face, left to right (the weight joined to the name), queued and finished.
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        foreach (var view in new[] { queued, job })
        {
            var people = view.GetProperty("people").EnumerateArray().ToArray();
            Assert.Equal([0, 1], people.Select(p => p.GetProperty("face_index").GetInt32()));
            Assert.Equal(["miaoya_demo_face:0.9", "add_detail:0.6"], people.Select(p => p.GetProperty("lora").GetString()));
            Assert.All(people, p => Assert.Equal(0, p.GetProperty("faces").GetInt32()));
            Assert.Equal([["anna_mya"], ["ben_mya", "man"]], people.Select(p => p.GetProperty("trigger").EnumerateArray().Select(w => w.GetString()!).ToArray()));
            Assert.Equal(JsonValueKind.Null, view.GetProperty("lora").ValueKind);
        }

        Assert.Contains("inpaint-face-0.png", Files(job, "inpaint"));
        Assert.Contains("inpaint-face-1.png", Files(job, "inpaint"));
        var folder = Path.Combine(h.JobsDirectory, job.GetProperty("id").GetString()!);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "manifest.json")))!;
        var recorded = manifest["inputs"]!["people"]!.AsArray();
        Assert.Equal([0, 1], recorded.Select(p => p!["face_index"]!.GetValue<int>()));
        Assert.Equal(["miaoya_demo_face:0.9", "add_detail:0.6"], recorded.Select(p => p!["lora"]!.GetValue<string>()));
        Assert.Equal([["anna_mya"], ["ben_mya", "man"]], recorded.Select(p => p!["trigger"]!.AsArray().Select(w => w!.GetValue<string>()).ToArray()));

        // Each face's inpaint call carried that person's LoRA and trigger words alone; no other call carried either's words.
        var prompts = Img2ImgPrompts(h.Boxes[0], masked: true);
        Assert.Contains(prompts, p => p.Contains("<lora:miaoya_demo_face:0.9>, anna_mya", StringComparison.Ordinal) && !p.Contains("add_detail", StringComparison.Ordinal) && !p.Contains("ben_mya", StringComparison.Ordinal));
        Assert.Contains(prompts, p => p.Contains("<lora:add_detail:0.6>, ben_mya, man", StringComparison.Ordinal) && !p.Contains("miaoya_demo_face", StringComparison.Ordinal) && !p.Contains("anna_mya", StringComparison.Ordinal));
        Assert.All(Img2ImgPrompts(h.Boxes[0], masked: false), p => Assert.False(p.Contains("anna_mya", StringComparison.Ordinal) || p.Contains("ben_mya", StringComparison.Ordinal), p));
    }

    [Fact]
    public async Task MultipartJob_V4FaceId_EachPersonsPhotosAsPeopleNFaces_AreCopiedIntoTheJobFolder()
    {
        // Arrange: v4-faceid sends four ControlNet units.
        await using var h = await ServerHarness.StartAsync(boxes: 1, mock: o => o.ControlNetUnitCount = 4);

        // Act: person 0 from two photos alone, person 1 from a photo and a LoRA.
        using var form = Form(
            "v4-faceid",
            """[{"face_index": 0}, {"face_index": 1, "lora": "miaoya_demo_face", "lora_weight": 0.8}]""",
            ("people[0].faces", "me.png", IdentityJobTests.FacePhoto()),
            ("people[0].faces", "me.png", IdentityJobTests.FacePhoto(degrees: -3, pad: 90)),
            ("people[1].faces", "you.png", IdentityJobTests.FacePhoto(degrees: 2, pad: 60)));
        var job = await FinishedAsync(h, await h.SubmitAsync(form));

        // Assert
        Assert.True(job.GetProperty("state").GetString() == "succeeded", job.GetProperty("error").ToString());
        Assert.Equal([2, 1], job.GetProperty("people").EnumerateArray().Select(p => p.GetProperty("faces").GetInt32()));
        Assert.Equal([null, "miaoya_demo_face:0.8"], job.GetProperty("people").EnumerateArray().Select(p => p.GetProperty("lora").GetString()));
        var folder = Path.Combine(h.JobsDirectory, job.GetProperty("id").GetString()!);
        foreach (var file in new[] { "person-0-face-1.png", "person-0-face-2.png", "person-1-face-1.png" })
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), file);
        }

        Assert.Contains("identity-face-0-2.png", Files(job, "identity"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));
    }

    public static TheoryData<string, string, string> BadPeople => new()
    {
        // case, field, part of the detail
        { "index beyond the faces", "people[1].face_index", "face_index 2 asked for, but 2 faces were found, counted from 0 left to right: 0 at x " },
        { "two on one face", "people[1].face_index", "people[0] already takes face 0" },
        { "negative index", "people[0].face_index", "faces are counted from 0" },
        { "no face_index", "people[0].face_index", "required" },
        { "unknown key", "people[0].name", "unknown field" },
        { "weight out of range", "people[0].lora_weight", "0..2" },
        { "weight twice", "people[0].lora_weight", "give it once" },
        { "no lora for v2", "people[1].lora", "recipe v2 takes each person from their face LoRA" },
        { "lora not on the box", "people[1].lora", "none of the boxes" },
        { "not a list", "people", "expected an array of people" },
        { "with lora", "lora", "lora is for a one-person job" },
        { "with face_index", "face_index", "face_index is for a one-person job" },
        { "with candidates", "candidates", "no one image is most like all of them" },
        { "with trigger", "trigger", "give each person their LoRA's trigger words in people[N].trigger" },
        { "trigger syntax", "people[1].trigger", "'<' is prompt syntax" },
        { "trigger without lora", "people[1].trigger", "trigger words but no lora" },
        { "too many trigger words", "people[0].trigger", "65 trigger words; at most 64" },
        { "trigger not words", "people[0].trigger", "expected a string of comma-separated words or an array of strings" },
    };

    [Theory]
    [MemberData(nameof(BadPeople))]
    public async Task BadPeople_Json_Are400NamingTheField_AndNothingIsQueued(string what, string field, string detail)
    {
        // Arrange: the boxes probed, so that a LoRA none of them lists is known.
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        await Hostile.WaitForHealthyBoxesAsync(h);
        JsonObject Person(int index, string? lora = "miaoya_demo_face") => new() { ["face_index"] = index, ["lora"] = lora };
        static (JsonArray? People, (string, JsonNode?)[] Extra) Case(JsonArray? people, params (string, JsonNode?)[] extra) => (people, extra);
        var (people, extra) = what switch
        {
            "index beyond the faces" => Case(new JsonArray(Person(0), Person(2))),
            "two on one face" => Case(new JsonArray(Person(0), Person(0, "add_detail"))),
            "negative index" => Case(new JsonArray(Person(-1))),
            "no face_index" => Case(new JsonArray(new JsonObject { ["lora"] = "miaoya_demo_face" })),
            "unknown key" => Case(new JsonArray(new JsonObject { ["face_index"] = 0, ["name"] = "anna" })),
            "weight out of range" => Case(new JsonArray(new JsonObject { ["face_index"] = 0, ["lora"] = "miaoya_demo_face", ["lora_weight"] = 3 })),
            "weight twice" => Case(new JsonArray(new JsonObject { ["face_index"] = 0, ["lora"] = "miaoya_demo_face:0.5", ["lora_weight"] = 0.7 })),
            "no lora for v2" => Case(new JsonArray(Person(0), new JsonObject { ["face_index"] = 1, ["faces"] = new JsonArray(DataUrl(IdentityJobTests.FacePhoto())) })),
            "lora not on the box" => Case(new JsonArray(Person(0), Person(1, "not_on_the_box"))),
            "with lora" => Case(new JsonArray(Person(0)), ("lora", "add_detail")),
            "with face_index" => Case(new JsonArray(Person(0)), ("face_index", 0)),
            "with candidates" => Case(new JsonArray(Person(0)), ("candidates", 2)),
            "with trigger" => Case(new JsonArray(Person(0)), ("trigger", "anna_mya")),
            "trigger syntax" => Case(new JsonArray(Person(0), new JsonObject { ["face_index"] = 1, ["lora"] = "add_detail", ["trigger"] = new JsonArray("ben_mya", "<lora:other:1>") })),
            "trigger without lora" => Case(new JsonArray(Person(0), new JsonObject { ["face_index"] = 1, ["faces"] = new JsonArray(DataUrl(IdentityJobTests.FacePhoto())), ["trigger"] = "ben_mya" })),
            "too many trigger words" => Case(new JsonArray(new JsonObject { ["face_index"] = 0, ["lora"] = "miaoya_demo_face", ["trigger"] = string.Join(',', Enumerable.Range(0, 65).Select(i => $"w{i}")) })),
            "trigger not words" => Case(new JsonArray(new JsonObject { ["face_index"] = 0, ["lora"] = "miaoya_demo_face", ["trigger"] = new JsonArray(1) })),
            _ => Case(null),
        };
        using var content = what == "not a list"
            ? Json(new JsonObject { ["template"] = DataUrl(File.ReadAllBytes(Duo)), ["recipe"] = "v2", ["people"] = new JsonObject { ["face_index"] = 0 } })
            : People("v2", people!, extra);

        // Act
        using var response = await h.Client.PostAsync("/v1/jobs", content);
        var body = await response.Content.ReadAsStringAsync();

        // Assert
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {body}");
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty((await h.Client.GetFromJsonAsync<JsonElement>("/v1/jobs")).GetProperty("jobs").EnumerateArray());
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));
        Assert.Equal(0, h.Boxes[0].WireMock.LogEntries.Count(e => e.RequestMessage!.Path == "/sdapi/v1/img2img"));
    }

    [Fact]
    public async Task BadPeople_Multipart_PhotosForAPersonNotListed_AndAPhotoWithoutAFace_NameTheirField()
    {
        // Arrange
        await using var h = await ServerHarness.StartAsync(boxes: 1, mock: o => o.ControlNetUnitCount = 4);
        using var grey = new Image<Rgb24>(256, 256, new Rgb24(128, 128, 128));
        using var stream = new MemoryStream();
        await grey.SaveAsPngAsync(stream);

        // Act
        var notListed = await RefusedAsync(h, Form("v4-faceid", """[{"face_index": 0}]""", ("people[0].faces", "me.png", IdentityJobTests.FacePhoto()), ("people[2].faces", "me.png", IdentityJobTests.FacePhoto())));
        var noFace = await RefusedAsync(h, Form("v4-faceid", """[{"face_index": 0}, {"face_index": 1}]""", ("people[0].faces", "me.png", IdentityJobTests.FacePhoto()), ("people[1].faces", "wall.png", stream.ToArray())));
        var noPhotos = await RefusedAsync(h, Form("v4-faceid", """[{"face_index": 0, "lora": "miaoya_demo_face"}]"""));
        var notJson = await RefusedAsync(h, Form("v4-faceid", "0=miaoya_demo_face"));

        // Assert
        Assert.Equal("people[2].faces", notListed.GetProperty("field").GetString());
        Assert.Contains("people lists 1 person", notListed.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("people[1].faces[0]", noFace.GetProperty("field").GetString());
        var detail = noFace.GetProperty("detail").GetString()!;
        Assert.Contains("wall.png: no face found", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(h.UploadDirectory, detail, StringComparison.Ordinal);
        Assert.Equal("people[0].faces", noPhotos.GetProperty("field").GetString());
        Assert.Contains("takes each person's identity from face photos", noPhotos.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("people", notJson.GetProperty("field").GetString());
        Assert.Empty((await h.Client.GetFromJsonAsync<JsonElement>("/v1/jobs")).GetProperty("jobs").EnumerateArray());
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));
        Assert.Empty(Directory.EnumerateDirectories(h.JobsDirectory));
    }

    [Fact]
    public async Task Restart_MidInpaint_ThePeopleJobResumesFromItsManifest_WithEachPersonsTrigger_AndSucceedsOnTheNextStart()
    {
        // Arrange: the first instance's box takes 10 s per call unless interrupted; the second's is fast.
        var folder = Directory.CreateTempSubdirectory("miaoya-people-restart-").FullName;
        try
        {
            using var slowBox = MockWebUiServer.Start(new MockWebUiOptions { Latency = TimeSpan.FromSeconds(10) });
            using var fastBox = MockWebUiServer.Start();
            var options = new ServerOptions
            {
                Urls = ["http://127.0.0.1:0"],
                ApiKey = ServerHarness.Key,
                Boxes = [new BoxOptions { Name = "box0", Url = slowBox.Url }],
                ConfigureFleet = f => f.HealthInterval = TimeSpan.FromMilliseconds(200),
                Runner = new JobRunnerOptions
                {
                    JobsDirectory = Path.Combine(folder, "jobs"),
                    OwnershipCheckInterval = TimeSpan.FromMilliseconds(500),
                    PollInterval = TimeSpan.FromMilliseconds(50),
                },
            };

            // Act: queue, stop while the first person's inpaint renders, start again on another box.
            string id;
            await using (var first = await MiaoyaServer.StartAsync(options))
            {
                using var client = Client(first);
                using var submitted = await client.PostAsync("/v1/jobs", People("v1-face", TwoLoraPeopleWithTriggers(), ("seed", 11)));
                Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
                id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
                await ServerHarness.ReadEventsAsync(client, id, until: e => e.Name == "step_progress" && e.Data.GetProperty("step").GetString() == "inpaint"
                    && e.Data.GetProperty("data").GetProperty("box").ValueKind == JsonValueKind.String);
                await first.StopAsync();
            }

            await using (var second = await MiaoyaServer.StartAsync(options with { Boxes = [new BoxOptions { Name = "box1", Url = fastBox.Url }] }))
            {
                using var client = Client(second);
                var events = await ServerHarness.ReadEventsAsync(client, id);
                var done = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");

                // Assert: both people's faces were rendered by the second start, from what the first recorded.
                Assert.True(events[^1].Name == "job_succeeded", done.GetProperty("error").ToString());
                Assert.Equal([0, 1], done.GetProperty("people").EnumerateArray().Select(p => p.GetProperty("face_index").GetInt32()));
                Assert.Contains("inpaint-face-0.png", Files(done, "inpaint"));
                Assert.Contains("inpaint-face-1.png", Files(done, "inpaint"));
                var prompts = fastBox.WireMock.LogEntries
                    .Where(e => e.RequestMessage!.Path == "/sdapi/v1/img2img")
                    .Select(e => JsonDocument.Parse(e.RequestMessage!.Body!).RootElement.GetProperty("prompt").GetString()!)
                    .ToArray();
                // Each with their own trigger words, which came back from the manifest (the request is gone with the first start).
                Assert.Contains(prompts, p => p.Contains("<lora:miaoya_demo_face:0.9>, anna_mya", StringComparison.Ordinal) && !p.Contains("ben_mya", StringComparison.Ordinal));
                Assert.Contains(prompts, p => p.Contains("<lora:add_detail:0.6>, ben_mya, man", StringComparison.Ordinal) && !p.Contains("anna_mya", StringComparison.Ordinal));
                await second.StopAsync();
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<JsonElement> RefusedAsync(ServerHarness h, HttpContent content)
    {
        using (content)
        using (var response = await h.Client.PostAsync("/v1/jobs", content))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {body}");
            return JsonDocument.Parse(body).RootElement.Clone();
        }
    }

    private static HttpClient Client(MiaoyaServer server)
    {
        var client = new HttpClient { BaseAddress = server.Urls[0] };
        client.DefaultRequestHeaders.Add("X-Api-Key", ServerHarness.Key);
        return client;
    }
}
