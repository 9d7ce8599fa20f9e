using System.Text.Json.Nodes;
using Miaoya.Imaging;
using Miaoya.MockWebUi;
using Miaoya.Recipes;

namespace Miaoya.Cli.Tests;

/// <summary>The commands as a user runs them: exit codes, files written, and what is printed on bad input.</summary>
[Collection(ConsoleTests.Name)]
public sealed class CliTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => CliRunner.RunAsync(args);

    [Theory]
    [InlineData("webui-1.10", "DPM++ SDE")]
    [InlineData("webui-1.8", "DPM++ SDE Karras")]
    public async Task Demo_RunsThreeRecipesAndWritesAReport(string profile, string sampler)
    {
        var (code, output, error) = await RunAsync("demo", "--out", _folder, "--profile", profile, "--seed", "3000000000");

        Assert.True(code == 0, error);
        Assert.Contains("Report: ", output, StringComparison.Ordinal);
        var demo = Assert.Single(Directory.GetDirectories(_folder));
        foreach (var recipe in new[] { "v1-face", "v1-face-neck", "v2", "v3" })
        {
            var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(demo, recipe, "manifest.json")))!;
            Assert.Equal("succeeded", manifest["status"]!.GetValue<string>());
            Assert.Equal(sampler, manifest["steps"]![2]!["request"]!["sampler_name"]!.GetValue<string>());
            Assert.Equal(3_000_000_000L, manifest["steps"]![2]!["response"]!["seed"]!.GetValue<long>());
            var final = await EncodedImage.ReadFileAsync(Path.Combine(demo, recipe, "final.png"));
            Assert.Equal((512, 512), final.ReadSize());
            Assert.NotNull(PngText.Read(final, PngText.ParametersKeyword));
        }

        // v2-finish: the finishing passes ran after V2 (the astronaut's face is small enough for the detail pass) and its final is upscaled.
        var finish = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(demo, "v2-finish", "manifest.json")))!;
        Assert.Equal("succeeded", finish["status"]!.GetValue<string>());
        Assert.Equal(["detail", "restore", "upscale"], finish["steps"]!.AsArray().Skip(4).Select(s => s!["name"]!.GetValue<string>()));
        Assert.Equal((2048, 2048), (await EncodedImage.ReadFileAsync(Path.Combine(demo, "v2-finish", "final.png"))).ReadSize());

        var v3 = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(demo, "v3", "manifest.json")))!;
        Assert.Equal("succeeded", v3["status"]!.GetValue<string>());
        Assert.Equal("faceswap", v3["steps"]![1]!["name"]!.GetValue<string>());
        var html = await File.ReadAllTextAsync(Path.Combine(demo, "index.html"));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "Stand-in face models"));
        Assert.Contains("v3/faceswap.png", html, StringComparison.Ordinal);
        Assert.Contains("v1-face-neck/mask.png", html, StringComparison.Ordinal);
        Assert.Contains("v2/img2img.png", html, StringComparison.Ordinal);
        Assert.Contains("v2-finish/detail.png", html, StringComparison.Ordinal);
        Assert.Contains("v2-finish/restore.png", html, StringComparison.Ordinal);
        Assert.Contains("v2-finish/upscale.png", html, StringComparison.Ordinal);

        // It says plainly that the box was the mock, and shows each step's ControlNet maps labelled by their unit.
        Assert.Contains("These runs went to Miaoya&#39;s mock WebUI (", html, StringComparison.Ordinal);
        Assert.Contains("alt=\"inpaint: softedge_pidinet, weight 0.75\"", html, StringComparison.Ordinal);
        Assert.Contains("v1-face/inpaint-controlnet-1.png", html, StringComparison.Ordinal);
        Assert.Contains("alt=\"inpaint: openpose_faceonly, weight 0.7\"", html, StringComparison.Ordinal);

        // v4-faceid on the mock: identity from the face photo, best of 2 by likeness with the stand-in scorer.
        var v4 = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(demo, "v4-faceid", "manifest.json")))!;
        Assert.Equal("succeeded", v4["status"]!.GetValue<string>());
        Assert.Equal(["interrogate", "identity", "mask", "inpaint", "select"], v4["steps"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()));
        Assert.True(v4["steps"]![4]!["result"]!["stand_in_models"]!.GetValue<bool>());
        Assert.Contains("Best of 2 by likeness (sface, a stand-in model", html, StringComparison.Ordinal);
        Assert.Contains("v4-faceid/candidates.html", html, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(demo, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Demo_TemplateThatIsNotAnImage_IsExit2NamingTheFile()
    {
        var notImage = Path.Combine(_folder, "notes.txt");
        Directory.CreateDirectory(_folder);
        await File.WriteAllTextAsync(notImage, "hello");

        var (code, _, error) = await RunAsync("demo", "--template", notImage, "--out", _folder);

        Assert.Equal(2, code);
        Assert.Contains($"{notImage}: not a PNG, JPEG or WebP file.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ThenReplay_ThenResumeOfAFinishedRun()
    {
        using var server = MockWebUiServer.Start();
        var template = Path.Combine(_folder, "astronaut.png");
        Directory.CreateDirectory(_folder);
        await File.WriteAllBytesAsync(template, await ReadEmbeddedTemplateAsync());
        var run = Path.Combine(_folder, "run");

        var (code, output, error) = await RunAsync("run", "v1-face", "--template", template, "--lora", "miaoya_demo_face:0.8", "--trigger", "annaface",
            "--webui", server.Url.ToString(), "--out", run, "--seed", "7", "--set", "inpaint.controlnet.softedge.weight=0.6");

        Assert.True(code == 0, error);
        Assert.Contains("Final image:", output, StringComparison.Ordinal);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(run, "manifest.json")))!;
        var units = manifest["steps"]![2]!["request"]!["alwayson_scripts"]!["controlnet"]!["args"]!.AsArray();
        Assert.Equal(0.6, units[1]!["weight"]!.GetValue<double>());
        Assert.Contains("<lora:miaoya_demo_face:0.8>, annaface", manifest["steps"]![2]!["request"]!["prompt"]!.GetValue<string>(), StringComparison.Ordinal);

        (code, output, error) = await RunAsync("replay", Path.Combine(run, "manifest.json"), "--webui", server.Url.ToString());
        Assert.True(code == 0, error);
        Assert.Contains("identical to the recorded image", output, StringComparison.Ordinal);

        // The run folder itself works as well as its manifest, and without --webui it goes to the run's own box.
        (code, output, error) = await RunAsync("replay", run);
        Assert.True(code == 0, error);
        Assert.Contains($"Replaying on {server.Url} (the run's box", output, StringComparison.Ordinal);
        Assert.Contains("identical to the recorded image", output, StringComparison.Ordinal);

        (code, output, error) = await RunAsync("run", "--resume", run, "--webui", server.Url.ToString());
        Assert.True(code == 0, error);
        Assert.Contains("Final image:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_and_resume_of_a_folder_that_is_not_a_run_are_bad_input()
    {
        Directory.CreateDirectory(_folder);
        var missing = Path.Combine(_folder, "missing");

        var (code, output, error) = await RunAsync("run", "--resume", missing, "--webui", "http://127.0.0.1:9/");
        Assert.Equal(2, code);
        Assert.Contains($"--resume {missing}: no such folder", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Resuming", output, StringComparison.Ordinal);

        (code, _, error) = await RunAsync("run", "--resume", _folder, "--webui", "http://127.0.0.1:9/");
        Assert.Equal(2, code);
        Assert.Contains("no manifest.json there; give a run folder written by 'miaoya run'", error, StringComparison.Ordinal);

        (code, _, error) = await RunAsync("replay", _folder, "--webui", "http://127.0.0.1:9/");
        Assert.Equal(2, code);
        Assert.Contains($"{_folder}: no manifest.json there", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UnknownLora_ListsWhatIsMissingAndExits2()
    {
        using var server = MockWebUiServer.Start();
        var template = Path.Combine(_folder, "astronaut.png");
        Directory.CreateDirectory(_folder);
        await File.WriteAllBytesAsync(template, await ReadEmbeddedTemplateAsync());

        var (code, _, error) = await RunAsync("run", "v2", "--template", template, "--lora", "nobody", "--webui", server.Url.ToString(), "--out", Path.Combine(_folder, "r"));

        // The person's LoRA is the input at fault (the box has everything else): bad input, and no --resume hint.
        Assert.Equal(2, code);
        Assert.Contains("cannot run v2", error, StringComparison.Ordinal);
        Assert.Contains("LoRA \"nobody\" is not on the box", error, StringComparison.Ordinal);
        Assert.DoesNotContain("--resume", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissingArguments_SaysWhichAndExits()
    {
        var (code, _, error) = await RunAsync("run", "v1-face");

        Assert.NotEqual(0, code);
        Assert.Contains("--template: required", error, StringComparison.Ordinal);

        // --lora is optional for recipes with an identity section (v4-*), so it is asked for once the recipe is read.
        var (withoutLora, _, loraError) = await RunAsync("run", "v1-face", "--template", "nope.png");
        Assert.Equal(2, withoutLora);
        Assert.Contains("--lora: required for recipe v1-face", loraError, StringComparison.Ordinal);
        Assert.Contains("v4-faceid", loraError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecipeValidate_BuiltInsPass_BrokenFileListsProblemsWithLines()
    {
        var broken = Path.Combine(_folder, "broken.yaml");
        Directory.CreateDirectory(_folder);
        await File.WriteAllTextAsync(broken, RecipeLoader.ReadBuiltIn("v1-face").Replace("weight: 0.75", "weight: 2.75", StringComparison.Ordinal).Replace("mask_blur: 16", "mask_blurr: 16", StringComparison.Ordinal));

        var (ok, output, _) = await RunAsync("recipe", "validate", "v1-face", "v1-face-neck", "v2");
        var (bad, _, error) = await RunAsync("recipe", "validate", broken);

        Assert.Equal(0, ok);
        Assert.Contains("ok (v2, V2: interrogate → mask → inpaint → img2img)", output, StringComparison.Ordinal);
        Assert.Equal(2, bad);
        Assert.Contains($"{broken}:", error, StringComparison.Ordinal);
        Assert.Contains("inpaint.controlnet.softedge.weight: 2.75", error, StringComparison.Ordinal);
        Assert.Contains("mask_blurr", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecipeValidate_AFinishBackgroundTheSpecForbids_IsExit2AtItsLine_AndRunRefusesItBeforeAnyCall()
    {
        var recipe = Path.Combine(_folder, "us-blue.yaml");
        Directory.CreateDirectory(_folder);
        await File.WriteAllTextAsync(recipe, RecipeLoader.ReadBuiltIn("v1-face") + "\nfinish:\n  spec: us-2x2\n  background: \"#438EDB\"\n");
        var line = File.ReadAllLines(recipe).Length;

        var (code, _, error) = await RunAsync("recipe", "validate", recipe);
        Assert.Equal(2, code);
        Assert.Contains($"{recipe}:{line}:15: finish.background: us-2x2 does not allow a blue (#438EDB) background", error, StringComparison.Ordinal);

        // run loads the recipe before it calls a box: nothing listens on port 9, and the refusal is the recipe's.
        (code, _, error) = await RunAsync("run", "v1-face", "--template", Path.Combine(AppContext.BaseDirectory, "templates", "astronaut.png"), "--lora", "anna",
            "--set", "finish.spec=us-2x2", "--set", "finish.background=#438EDB", "--webui", "http://127.0.0.1:9", "--out", Path.Combine(_folder, "run"));
        Assert.Equal(2, code);
        Assert.Contains("us-2x2 does not allow a blue (#438EDB) background", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_folder, "run")), "no run folder for a refused recipe");
    }

    [Fact]
    public async Task RecipeExplain_PrintsPayloadsWithImagesElided()
    {
        var template = Path.Combine(_folder, "astronaut.png");
        Directory.CreateDirectory(_folder);
        await File.WriteAllBytesAsync(template, await ReadEmbeddedTemplateAsync());

        var (code, output, error) = await RunAsync("recipe", "explain", "v2", "--template", template, "--lora", "anna:0.7", "--profile", "webui-1.8");

        Assert.True(code == 0, error);
        Assert.Contains("\"sampler_name\": \"DPM++ SDE Karras\"", output, StringComparison.Ordinal);
        Assert.Contains("\"init_images\": [\n    \"<template.png>\"", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\"mask\": \"<mask.png>\"", output, StringComparison.Ordinal);
        Assert.Contains("<inpaint.png>", output, StringComparison.Ordinal);
        Assert.Contains("<lora:anna:0.7>", output, StringComparison.Ordinal);
        Assert.DoesNotContain("iVBOR", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecipeExplain_Json_PrintsTheBodiesAsObjects_WithNumbersAsNumbers_AndNoProse()
    {
        var template = Path.Combine(_folder, "astronaut.png");
        Directory.CreateDirectory(_folder);
        await File.WriteAllBytesAsync(template, await ReadEmbeddedTemplateAsync());

        var (code, output, error) = await RunAsync("recipe", "explain", "v2", "--template", template, "--lora", "anna:0.7", "--json");

        Assert.True(code == 0, error);
        var json = System.Text.Json.Nodes.JsonNode.Parse(output)!;
        Assert.Equal("v2", json["recipe"]!.GetValue<string>());
        Assert.Equal(["interrogate", "mask", "inpaint", "img2img"], json["steps"]!.AsArray().Select(n => n!.GetValue<string>()));
        var requests = json["requests"]!.AsArray();
        Assert.Equal(["inpaint", "img2img"], requests.Select(r => r!["step"]!.GetValue<string>()));
        var inpaint = requests[0]!["body"]!;
        Assert.Equal("<template.png>", inpaint["init_images"]![0]!.GetValue<string>());
        Assert.Equal("<mask.png>", inpaint["mask"]!.GetValue<string>());
        Assert.Equal(30, inpaint["steps"]!.GetValue<int>());
        Assert.Equal(System.Text.Json.JsonValueKind.Number, inpaint["denoising_strength"]!.GetValueKind());
        Assert.Equal("<inpaint.png>", requests[1]!["body"]!["init_images"]![0]!.GetValue<string>());
        Assert.Contains("<lora:anna:0.7>", json["prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(json["needs"]!.AsArray(), n => n!["kind"]!.GetValue<string>() == "lora" && n["name"]!.GetValue<string>() == "anna");
        Assert.DoesNotContain("iVBOR", output, StringComparison.Ordinal);
    }

    private static async Task<byte[]> ReadEmbeddedTemplateAsync()
    {
        await using var stream = typeof(CliApp).Assembly.GetManifestResourceStream("template-astronaut.png")!;
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task Probe_PrintsWhatTheBoxOffers()
    {
        using var server = MockWebUiServer.Start(new MockWebUiOptions { Profile = MockWebUiProfile.WebUi18, Auth = "ann:pw" });

        var (code, output, error) = await RunAsync("probe", "--webui", server.Url.ToString(), "--auth", "ann:pw");

        Assert.True(code == 0, error);
        Assert.Contains("A1111 ≤ 1.8", output, StringComparison.Ordinal);
        Assert.Contains("ControlNet    API v2", output, StringComparison.Ordinal);
        Assert.Contains("Tagger        Toriato", output, StringComparison.Ordinal);
        Assert.Contains("Backend       A1111", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_json_gives_one_object_with_numbers_as_numbers_and_absent_extensions_as_null()
    {
        using var server = MockWebUiServer.Start(new MockWebUiOptions { Without = { "tagger" } });

        var (code, output, error) = await RunAsync("probe", "--webui", server.Url.ToString(), "--json");

        Assert.True(code == 0, error);
        var json = System.Text.Json.Nodes.JsonNode.Parse(output)!.AsObject();
        Assert.Equal("A1111", json["backend"]!.GetValue<string>());
        Assert.Equal("A1111 ≥ 1.10", json["server"]!.GetValue<string>());
        Assert.Equal(3, json["controlnet"]!["api_version"]!.GetValue<int>());
        Assert.Equal(3, json["controlnet"]!["unit_count"]!.GetValue<int>());
        Assert.Contains("softedge_pidinet", json["controlnet"]!["modules"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Null(json["tagger"]);
        Assert.Null(json["controlnet_absent_reason"]);
        Assert.Contains("chilloutmix_NiPrunedFp32Fix.safetensors [fc2511737a]", json["checkpoints"]!.AsArray().Select(m => m!.GetValue<string>()));
    }

    [Theory]
    [InlineData("run v2 --template t.png --no-such-option", "--no-such-option", "miaoya run --help")]
    [InlineData("recipe", "Required command was not provided", "miaoya recipe --help")]
    [InlineData("probe --no-such-option", "--no-such-option", "miaoya probe --help")] // --webui is optional since 1d6eca9 (the default box)
    public async Task CommandLineErrors_AreExit2AndNameTheCommandsHelp(string commandLine, string problem, string help)
    {
        var (code, _, error) = await RunAsync(commandLine.Split(' '));

        Assert.Equal(2, code);
        Assert.Contains(problem, error, StringComparison.Ordinal);
        Assert.Contains(help, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientSettings_ComeFromEnvironmentVariables_AndBadOnesAreExit2()
    {
        using var server = MockWebUiServer.Start();
        Environment.SetEnvironmentVariable("MIAOYA_WebUi__ControlRetries", "-1");
        try
        {
            var (code, _, error) = await RunAsync("probe", "--webui", server.Url.ToString());

            Assert.Equal(2, code);
            Assert.Contains("MIAOYA_WebUi__", error, StringComparison.Ordinal);
            Assert.Contains("ControlRetries", error, StringComparison.Ordinal);

            Environment.SetEnvironmentVariable("MIAOYA_WebUi__ControlRetries", "1");
            Environment.SetEnvironmentVariable("MIAOYA_WebUi__GenerationTimeout", "00:20:00");
            (code, _, error) = await RunAsync("probe", "--webui", server.Url.ToString());
            Assert.True(code == 0, error);
        }
        finally
        {
            Environment.SetEnvironmentVariable("MIAOYA_WebUi__ControlRetries", null);
            Environment.SetEnvironmentVariable("MIAOYA_WebUi__GenerationTimeout", null);
        }
    }

    [Fact]
    public async Task Probe_WrongPassword_IsExit1WithoutThePassword()
    {
        using var server = MockWebUiServer.Start(new MockWebUiOptions { Auth = "ann:pw" });

        var (code, _, error) = await RunAsync("probe", "--webui", server.Url.ToString(), "--auth", "ann:guess");

        Assert.Equal(1, code);
        Assert.Contains("HTTP 401", error, StringComparison.Ordinal);
        Assert.Contains("--api-auth", error, StringComparison.Ordinal);
        Assert.DoesNotContain("guess", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--profile", "webui-2", "--profile: 'webui-2' is not a profile; use one of webui-1.10, webui-1.8, forge, reforge, sdnext.")]
    [InlineData("--latency", "soon", "--latency: 'soon' is not a duration (examples: 2s, 500ms, 1.5m).")]
    [InlineData("--fail-rate", "1.5", "--fail-rate: must be between 0 and 1.")]
    [InlineData("--port", "70000", "--port: must be between 0 and 65535.")]
    [InlineData("--auth", "nopassword", "--auth: expected user:password.")]
    [InlineData("--controlnet-units", "11", "--controlnet-units: must be between 1 and 10.")]
    public async Task MockWebUi_BadOption_SaysWhichAndWhy(string option, string value, string expected)
    {
        var (code, _, error) = await RunAsync("mock-webui", option, value);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2s", 2000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5m", 90_000)]
    [InlineData("00:00:03", 3000)]
    public void Duration_ParsesWhatPeopleType(string text, double milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var value));
        Assert.Equal(milliseconds, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("-2s")]
    [InlineData("two seconds")]
    public void Duration_RefusesNonsense(string text) => Assert.False(Duration.TryParse(text, out _));
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleTests
{
    public const string Name = "Console";
}
