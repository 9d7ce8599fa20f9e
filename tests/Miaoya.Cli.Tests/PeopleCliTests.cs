using System.Text.Json.Nodes;
using Miaoya.MockWebUi;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya run … --person INDEX=LORA --person-face INDEX=PHOTO</c> and <c>idphoto --face-index</c>, as a user types them.</summary>
[Collection(ConsoleTests.Name)]
public sealed class PeopleCliTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-cli-people-" + Guid.NewGuid().ToString("N"));

    public PeopleCliTests() => Directory.CreateDirectory(_folder);

    private static string Astronaut => Path.Combine(AppContext.BaseDirectory, "LikenessFixtures", "astronaut.png");

    /// <summary>Two astronauts side by side (the right one mirrored), made here.</summary>
    private string TwoPeople()
    {
        var path = Path.Combine(_folder, "two-people.png");
        using var one = Image.Load<Rgb24>(Astronaut);
        using var mirrored = one.Clone(c => c.Flip(FlipMode.Horizontal));
        using var both = new Image<Rgb24>(one.Width * 2, one.Height);
        both.Mutate(c => c.DrawImage(one, new Point(0, 0), 1f).DrawImage(mirrored, new Point(one.Width, 0), 1f));
        both.SaveAsPng(path);
        return path;
    }

    [Fact]
    public async Task V2_TwoPeople_Json_OneInpaintPerFace_AndTheManifestRecordsThePeople()
    {
        using var server = MockWebUiServer.Start();
        var run = Path.Combine(_folder, "run");

        var (code, output, error) = await CliRunner.RunAsync(
            "run", "v2", "--template", TwoPeople(), "--person", "1=add_detail:0.6", "--person", "0=miaoya_demo_face:0.9",
            "--person-trigger", "0=annaxyz", "--webui", server.Url.ToString(), "--out", run, "--seed", "3", "--json");

        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!;
        Assert.Equal("succeeded", json["status"]!.GetValue<string>());
        var inpaint = json["steps"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == "inpaint")!;
        Assert.Equal(["inpaint.png", "inpaint-face-0.png"], inpaint["outputs"]!.AsArray().Take(2).Select(o => o!.GetValue<string>()));
        Assert.Contains("inpaint-face-1.png", inpaint["outputs"]!.AsArray().Select(o => o!.GetValue<string>()));
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(run, "manifest.json")))!;
        var people = manifest["inputs"]!["people"]!.AsArray();
        Assert.Equal([0, 1], people.Select(p => p!["face_index"]!.GetValue<int>()));
        Assert.Equal("miaoya_demo_face:0.9", people[0]!["lora"]!.GetValue<string>());
        Assert.Equal("add_detail:0.6", people[1]!["lora"]!.GetValue<string>());
        Assert.Equal("annaxyz", Assert.Single(people[0]!["trigger"]!.AsArray())!.GetValue<string>());
        Assert.Null(people[1]!["trigger"]);
        var prompts = await File.ReadAllLinesAsync(Path.Combine(run, "prompt.txt"));
        Assert.Contains("annaxyz", prompts.Single(l => l.StartsWith("Face 0: ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.DoesNotContain("annaxyz", prompts.Single(l => l.StartsWith("Face 1: ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.DoesNotContain("annaxyz", prompts[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("index", "--person 2 asked for, but 2 faces were found, counted from 0 left to right: 0 at x ")]
    [InlineData("twice", "--person 0: two people are given for face 0")]
    [InlineData("not-a-number", "--person 'x=miaoya_demo_face': 'x' is not a face index")]
    [InlineData("no-lora", "--person 1: recipe v2 takes each person from their face LoRA: give --person 1=LORA[:WEIGHT]")]
    [InlineData("with-lora", "--person gives each person their own LoRA and face photos")]
    [InlineData("bad-weight", "--person 0=miaoya_demo_face:7: ")]
    [InlineData("trigger-alone", "--person-trigger 'annaxyz': give INDEX=WORD")]
    [InlineData("run-trigger", "--trigger: trigger words would go into every person's prompt")]
    public async Task BadPeople_AreExit2_NamingTheOption(string what, string expected)
    {
        using var server = MockWebUiServer.Start();
        string[] people = what switch
        {
            "index" => ["--person", "0=miaoya_demo_face", "--person", "2=add_detail"],
            "twice" => ["--person", "0=miaoya_demo_face", "--person", "0=add_detail"],
            "not-a-number" => ["--person", "x=miaoya_demo_face"],
            "no-lora" => ["--person", "0=miaoya_demo_face", "--person-face", "1=" + Astronaut],
            "with-lora" => ["--person", "0=miaoya_demo_face", "--lora", "add_detail"],
            "trigger-alone" => ["--person", "0=miaoya_demo_face", "--person-trigger", "annaxyz"],
            "run-trigger" => ["--person", "0=miaoya_demo_face", "--trigger", "annaxyz"],
            _ => ["--person", "0=miaoya_demo_face:7"],
        };

        var (code, _, error) = await CliRunner.RunAsync(
            ["run", "v2", "--template", TwoPeople(), .. people, "--webui", server.Url.ToString(), "--out", Path.Combine(_folder, what)]);

        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Equal(0, server.WireMock.LogEntries.Count(e => e.RequestMessage!.Path == "/sdapi/v1/img2img"));
    }

    [Fact]
    public async Task IdPhoto_FaceIndex_PicksOneFace_AndOutOfRangeIsExit2WithTheCount()
    {
        var two = TwoPeople();

        var (code, text, error) = await CliRunner.RunAsync("idphoto", two, "--spec", "cn-1inch", "--out", Path.Combine(_folder, "id"), "--face-index", "1");
        Assert.True(code is 0 or 1, error + text);
        Assert.True(File.Exists(Path.Combine(_folder, "id", "cn-1inch-300dpi.jpg")), text);

        (code, _, error) = await CliRunner.RunAsync("idphoto", two, "--spec", "cn-1inch", "--out", Path.Combine(_folder, "bad"), "--face-index", "2");
        Assert.Equal(2, code);
        Assert.Contains("--face-index 2 asked for, but 2 faces were found, counted from 0 left to right", error, StringComparison.Ordinal);

        (code, _, error) = await CliRunner.RunAsync("idphoto", two, "--spec", "cn-1inch", "--out", Path.Combine(_folder, "none"));
        Assert.Equal(2, code);
        Assert.Contains("choose one with --face-index N", error, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
