using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Server.Tests;

/// <summary>Jobs that take the person from face photos (v4 recipes) and best-of-N by likeness, through the API against the mock.</summary>
public sealed class IdentityJobTests
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "StandInModels");

    /// <summary>A photo of the person: the astronaut mirrored, padded with grey and tilted a little (one face each).</summary>
    internal static byte[] FacePhoto(float degrees = 4, int pad = 40)
    {
        using var photo = Image.Load<Rgb24>(ServerHarness.Astronaut);
        photo.Mutate(c => c.Flip(FlipMode.Horizontal).Pad(photo.Width + pad, photo.Height + pad, Color.Gray).Rotate(degrees));
        using var stream = new MemoryStream();
        photo.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>One box with four ControlNet unit slots (v4-faceid sends four units), and the scorer's model folder.</summary>
    private static Task<ServerHarness> StartAsync() => ServerHarness.StartAsync(
        boxes: 1,
        configure: o => o with { Runner = o.Runner with { ModelsDirectory = Models, StandInModels = true } },
        mock: o => o.ControlNetUnitCount = 4);

    /// <summary>A multipart submission with the astronaut template, the given face files and fields (no lora unless given).</summary>
    private static MultipartFormDataContent Form(string recipe, IEnumerable<(string Name, byte[] Bytes)> faces, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        var template = new ByteArrayContent(File.ReadAllBytes(ServerHarness.Astronaut));
        template.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(template, "template", "astronaut.png");
        form.Add(new StringContent(recipe), "recipe");
        foreach (var (name, bytes) in faces)
        {
            var face = new ByteArrayContent(bytes);
            face.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(face, "face", name);
        }

        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return form;
    }

    private static StringContent Json(Dictionary<string, object?> fields) =>
        new(JsonSerializer.Serialize(fields), Encoding.UTF8, "application/json");

    private static string DataUrl(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);

    private static async Task<JsonElement> FinishedAsync(ServerHarness h, JsonElement queued)
    {
        var id = queued.GetProperty("id").GetString()!;
        await h.ReadEventsAsync(id);
        return JsonDocument.Parse(await h.Client.GetStringAsync($"/v1/jobs/{id}")).RootElement.Clone();
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

    [Fact]
    public async Task FaceIdJob_WithTwoFaceFilesAndNoLora_Succeeds_AndTheJobFolderHasBothPhotos()
    {
        // Arrange
        await using var h = await StartAsync();

        // Act: two files under the same field (and the same file name), no lora.
        using var form = Form("v4-faceid", [("me.png", FacePhoto()), ("me.png", FacePhoto(degrees: -3, pad: 90))]);
        var queued = await h.SubmitAsync(form);
        var job = await FinishedAsync(h, queued);

        // Assert
        Assert.Equal(JsonValueKind.Null, queued.GetProperty("lora").ValueKind);
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        var folder = Path.Combine(h.JobsDirectory, job.GetProperty("id").GetString()!);
        Assert.True(File.Exists(Path.Combine(folder, "face.png")));
        Assert.True(File.Exists(Path.Combine(folder, "face-2.png")));
        var identity = job.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "identity");
        Assert.Equal(["identity-1.png", "identity-2.png"], identity.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("file").GetString()).Where(f => f!.StartsWith("identity-", StringComparison.Ordinal)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));
    }

    [Fact]
    public async Task JsonJob_WithFacesAndCandidates_ShowsTheSelectStep_AndItsChoiceIsFinal()
    {
        // Arrange
        await using var h = await StartAsync();

        // Act: faces as a list, best of two, gates everybody passes.
        var queued = await h.SubmitAsync(Json(new()
        {
            ["template"] = DataUrl(File.ReadAllBytes(ServerHarness.Astronaut)),
            ["recipe"] = "v4-faceid",
            ["faces"] = new[] { DataUrl(FacePhoto()), DataUrl(FacePhoto(degrees: -3, pad: 90)) },
            ["candidates"] = 2,
            ["overrides"] = new[] { "candidates.min_similarity=0", "candidates.min_ratio=0" },
        }));
        var job = await FinishedAsync(h, queued);

        // Assert
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Contains("candidates.count=2", queued.GetProperty("overrides").EnumerateArray().Select(o => o.GetString()));
        var select = job.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "select");
        var files = select.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("file").GetString()).ToArray();
        Assert.Equal("select.png", files[0]);
        Assert.Contains("select-face-1.png", files);
        Assert.Contains("select-face-2.png", files);
        var final = job.GetProperty("final").GetString()!;
        using var chosen = Image.Load<Rgb24>(await h.Client.GetByteArrayAsync(select.GetProperty("outputs")[0].GetProperty("url").GetString()));
        using var finalImage = Image.Load<Rgb24>(await h.Client.GetByteArrayAsync(final));
        Assert.Equal((chosen.Width, chosen.Height), (finalImage.Width, finalImage.Height));
        var folder = Path.Combine(h.JobsDirectory, job.GetProperty("id").GetString()!);
        Assert.True(File.Exists(Path.Combine(folder, "face-2.png")));
    }

    [Fact]
    public async Task CandidatesThatNobodyPasses_FailTheJob_WithEveryScore()
    {
        // Arrange
        await using var h = await StartAsync();

        // Act
        using var form = Form("v4-faceid", [("me.png", FacePhoto())], ("candidates", "2"), ("overrides", "candidates.min_similarity=0.999"));
        var job = await FinishedAsync(h, await h.SubmitAsync(form));

        // Assert
        Assert.Equal("failed", job.GetProperty("state").GetString());
        var error = job.GetProperty("error").GetString()!;
        Assert.Contains("no candidate passes the likeness gates", error, StringComparison.Ordinal);
        Assert.Contains("#1 similarity", error, StringComparison.Ordinal);
        Assert.Contains("#2 similarity", error, StringComparison.Ordinal);
        var select = job.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "select");
        Assert.Equal("failed", select.GetProperty("state").GetString());
        Assert.Equal(1, select.GetProperty("attempts").GetInt32());
        Assert.Contains("candidates.html in the run folder", error, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Folder, error, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, job.GetProperty("final").ValueKind);
    }

    [Fact]
    public async Task ARecipeWithoutAnIdentitySection_WithoutLora_IsRefusedNamingLora()
    {
        await using var h = await StartAsync();

        var problem = await RefusedAsync(h, Form("v1-face", [("me.png", FacePhoto())]));

        Assert.Equal("lora", problem.GetProperty("field").GetString());
        Assert.Contains("recipe v1-face takes the person from their face LoRA", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FaceAndFaces_Together_AreRefusedNamingFaces()
    {
        await using var h = await StartAsync();
        var face = DataUrl(FacePhoto());

        var problem = await RefusedAsync(h, Json(new()
        {
            ["template"] = DataUrl(File.ReadAllBytes(ServerHarness.Astronaut)),
            ["recipe"] = "v4-faceid",
            ["face"] = face,
            ["faces"] = new[] { face },
        }));

        Assert.Equal("faces", problem.GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("17")]
    public async Task CandidatesOutside1To16_AreRefusedNamingCandidates(string count)
    {
        await using var h = await StartAsync();

        var problem = await RefusedAsync(h, Form("v4-faceid", [("me.png", FacePhoto())], ("candidates", count)));

        Assert.Equal("candidates", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task NineFaceFiles_AreRefusedNamingFace()
    {
        await using var h = await StartAsync();
        var photo = FacePhoto();

        var problem = await RefusedAsync(h, Form("v4-faceid", Enumerable.Range(1, 9).Select(i => ($"p{i}.png", photo))));

        Assert.Equal("face", problem.GetProperty("field").GetString());
        Assert.Contains("at most 8", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFacePhotoWithoutAFace_IsRefusedNamingFace_WithoutTheUploadFolder()
    {
        await using var h = await StartAsync();
        using var grey = new Image<Rgb24>(256, 256, new Rgb24(128, 128, 128));
        using var stream = new MemoryStream();
        grey.SaveAsPng(stream);

        var problem = await RefusedAsync(h, Form("v4-faceid", [("me.png", FacePhoto()), ("wall.png", stream.ToArray())]));

        Assert.Equal("face", problem.GetProperty("field").GetString());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("wall.png", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(h.UploadDirectory, detail, StringComparison.Ordinal);
    }
}
