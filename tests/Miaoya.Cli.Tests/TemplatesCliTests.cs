using System.Text.Json.Nodes;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya templates list|show|check|add|gallery</c>, and <c>run</c>/<c>sweep</c>/<c>batch</c> by template name against the mock.</summary>
[Collection(ConsoleTests.Name)]
public sealed class TemplatesCliTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-cli-templates-" + Guid.NewGuid().ToString("N"));

    /// <summary>The library shipped beside the program (the repository's templates/, copied by the CLI project).</summary>
    private static string Shipped => Path.Combine(AppContext.BaseDirectory, "templates");

    private string Library => Path.Combine(_folder, "lib");

    /// <summary>A library of one template, "styled": the astronaut with v1-face, a denoise override, a style LoRA and prompt additions.</summary>
    private string StyledLibrary(string lora = "add_detail")
    {
        Directory.CreateDirectory(Library);
        File.Copy(Path.Combine(Shipped, "astronaut.png"), Path.Combine(Library, "styled.png"), overwrite: true);
        File.WriteAllText(Path.Combine(Library, "styled.yaml"), $"""
            title: Styled astronaut
            tags: [portrait]
            people: 1
            model_family: sd15
            recipe: v1-face
            overrides: [inpaint.denoising_strength=0.5]
            style_lora: {"{"} name: {lora}, weight: 0.7 {"}"}
            prompt:
              positive_add: "vintage film look"
              negative_add: "cartoon"
            licence: {"{"} name: Public domain, source: "https://example.org/a", author: NASA {"}"}
            """);
        return Library;
    }

    [Fact]
    public async Task ListShowCheck_OnTheShippedLibrary_Work()
    {
        var (code, output, error) = await CliRunner.RunAsync("templates", "list", "--templates", Shipped);
        Assert.True(code == 0, error);
        Assert.Contains("astronaut-duo  2", output, StringComparison.Ordinal);
        Assert.Contains("cameraman", output, StringComparison.Ordinal);

        (code, output, _) = await CliRunner.RunAsync("templates", "list", "--templates", Shipped, "--tag", "group", "--json");
        Assert.Equal(0, code);
        var list = JsonNode.Parse(output)!.AsArray();
        Assert.Equal("astronaut-duo", Assert.Single(list)!["name"]!.GetValue<string>());

        (code, output, _) = await CliRunner.RunAsync("templates", "show", "cameraman", "--templates", Shipped, "--json");
        Assert.Equal(0, code);
        var show = JsonNode.Parse(output)!;
        Assert.Equal("bw_film_grain", show["style_lora"]!["name"]!.GetValue<string>());
        Assert.Equal("CC0-1.0", show["licence"]!["name"]!.GetValue<string>());

        (code, output, error) = await CliRunner.RunAsync("templates", "check", Shipped);
        Assert.True(code == 0, error);
        Assert.Contains("ok (3 templates", output, StringComparison.Ordinal);

        (code, _, error) = await CliRunner.RunAsync("templates", "show", "cameramna", "--templates", Shipped);
        Assert.Equal(2, code);
        Assert.Contains("did you mean 'cameraman'?", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_ABrokenLibrary_IsExit2_WithFileLineErrors()
    {
        StyledLibrary();
        File.WriteAllText(Path.Combine(Library, "styled.yaml"), File.ReadAllText(Path.Combine(Library, "styled.yaml")).Replace("people: 1", "peeple: 1", StringComparison.Ordinal));

        var (code, _, error) = await CliRunner.RunAsync("templates", "check", Library);

        Assert.Equal(2, code);
        Assert.Contains("styled.yaml:3:1: peeple: unknown key 'peeple'; did you mean 'people'?", error, StringComparison.Ordinal);
        Assert.Contains("styled.yaml:1:1: people: required", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddThenGallery_WritesACheckedTemplate_RefusesItsNameAgain_AndAPageWithItsCard()
    {
        var (code, output, error) = await CliRunner.RunAsync(
            "templates", "add", Path.Combine(Shipped, "astronaut.png"), "--templates", Library, "--name", "mine", "--title", "My astronaut",
            "--licence", "Public domain", "--source", "https://example.org/a", "--author", "NASA", "--tag", "portrait,studio",
            "--hint", "female/adult", "--recipe", "v1-face", "--set", "inpaint.steps=20", "--style-lora", "add_detail:0.5", "--positive-add", "soft light");
        Assert.True(code == 0, error);
        Assert.Contains("Added mine (1 person)", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Library, "mine.png")));

        (code, output, error) = await CliRunner.RunAsync("templates", "check", Library);
        Assert.True(code == 0, error);

        (code, _, error) = await CliRunner.RunAsync(
            "templates", "add", Path.Combine(Shipped, "astronaut.png"), "--templates", Library, "--name", "mine", "--title", "Again",
            "--licence", "CC0", "--source", "https://example.org/a", "--author", "me");
        Assert.Equal(2, code);
        Assert.Contains("--force", error, StringComparison.Ordinal);

        var page = Path.Combine(_folder, "page", "gallery.html");
        (code, output, error) = await CliRunner.RunAsync("templates", "gallery", "--templates", Library, "--out", page);
        Assert.True(code == 0, error);
        var html = File.ReadAllText(page);
        Assert.Contains("My astronaut", html, StringComparison.Ordinal);
        Assert.Contains("data:image/jpeg;base64,", html, StringComparison.Ordinal);
        Assert.Contains("<code>v1-face</code>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ByTemplateName_UsesItsRecipe_AndItsStyleLoraAndPromptAdditionsReachTheInpaintPayload_UnderTheUsersSet()
    {
        // Arrange
        using var server = MockWebUiServer.Start();
        var library = StyledLibrary();

        // Act: no recipe argument (the template suggests v1-face); the user's --set wins over the template's 0.5.
        var (code, output, error) = await CliRunner.RunAsync(
            "run", "--template", "styled", "--templates", library, "--lora", "miaoya_demo_face", "--set", "inpaint.denoising_strength=0.3",
            "--webui", server.Url.ToString(), "--out", Path.Combine(_folder, "run"), "--seed", "7", "--json");

        // Assert
        Assert.True(code == 0, error + output);
        Assert.Equal("v1-face", JsonNode.Parse(output)!["recipe"]!.GetValue<string>());
        var inpaint = JsonNode.Parse(server.WireMock.LogEntries.Last(e => e.RequestMessage?.Path == "/sdapi/v1/img2img").RequestMessage!.Body!)!;
        var prompt = inpaint["prompt"]!.GetValue<string>();
        Assert.Contains("<lora:miaoya_demo_face:", prompt, StringComparison.Ordinal);
        Assert.EndsWith("vintage film look, <lora:add_detail:0.7>", prompt, StringComparison.Ordinal);
        Assert.EndsWith(", cartoon", inpaint["negative_prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0.3, inpaint["denoising_strength"]!.GetValue<double>());
    }

    [Fact]
    public async Task Run_ByTemplateName_WhoseStyleLoraIsNotOnTheBox_IsRefusedBeforeRendering_AndAnUnknownNameIsExit2()
    {
        using var server = MockWebUiServer.Start();
        var library = StyledLibrary(lora: "bw_film_grain");

        var (code, _, error) = await CliRunner.RunAsync(
            "run", "--template", "styled", "--templates", library, "--lora", "miaoya_demo_face", "--webui", server.Url.ToString(), "--out", Path.Combine(_folder, "run"));
        Assert.NotEqual(0, code);
        Assert.Contains("prompt.positive: LoRA \"bw_film_grain\" is not on the box", error, StringComparison.Ordinal);
        Assert.DoesNotContain(server.WireMock.LogEntries, e => e.RequestMessage?.Path == "/sdapi/v1/img2img");

        (code, _, error) = await CliRunner.RunAsync(
            "run", "v1-face", "--template", "stlyed", "--templates", library, "--lora", "miaoya_demo_face", "--webui", server.Url.ToString());
        Assert.Equal(2, code);
        Assert.Contains("no template 'stlyed'", error, StringComparison.Ordinal);
        Assert.Contains("did you mean 'styled'?", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_TemplatesByName_GetTheTemplatesPromptAdditions()
    {
        using var server = MockWebUiServer.Start();
        var library = StyledLibrary();
        var jobs = Path.Combine(_folder, "jobs.yaml");
        File.WriteAllText(jobs, """
            templates: [styled]
            identities:
              - { name: anna, lora: miaoya_demo_face }
            recipes: [v1-face]
            seed: 3
            """);

        var (code, output, error) = await CliRunner.RunAsync("batch", jobs, "--templates", library, "--webui", server.Url.ToString(), "--out", Path.Combine(_folder, "batch"));

        Assert.True(code == 0, error + output);
        var prompt = JsonNode.Parse(server.WireMock.LogEntries.Last(e => e.RequestMessage?.Path == "/sdapi/v1/img2img").RequestMessage!.Body!)!["prompt"]!.GetValue<string>();
        Assert.EndsWith("vintage film look, <lora:add_detail:0.7>", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_AMisspeltTemplateName_IsExit2_WithTheLibrarysDidYouMean_AtTheBatchFilesLine()
    {
        var library = StyledLibrary();
        var jobs = Path.Combine(_folder, "jobs.yaml");
        File.WriteAllText(jobs, """
            identities:
              - { name: anna, lora: miaoya_demo_face }
            templates: [stlyed]
            recipes: [v1-face]
            """);

        var (code, _, error) = await CliRunner.RunAsync("batch", jobs, "--templates", library, "--webui", "http://127.0.0.1:9", "--out", Path.Combine(_folder, "batch"));

        Assert.Equal(2, code);
        Assert.Contains("jobs.yaml: templates[0]: no template 'stlyed' in the library ", error, StringComparison.Ordinal);
        Assert.Contains("(did you mean 'styled'?)", error, StringComparison.Ordinal);
        Assert.Contains("(line 3)", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_folder, "batch")), "nothing is queued for a bad batch file");
    }

    [Fact]
    public async Task RecipeExplain_ByTemplateName_UsesItsPhotoRecipeAndOverridesUnderTheUsersSet_AndAMisspeltNameGetsDidYouMean()
    {
        var library = StyledLibrary();

        // No recipe argument: the template suggests v1-face; its style LoRA and prompt additions are in the inpaint body.
        var (code, output, error) = await CliRunner.RunAsync("recipe", "explain", "--template", "styled", "--templates", library, "--lora", "anna:0.8", "--json");
        Assert.True(code == 0, error);
        var plan = JsonNode.Parse(output)!;
        Assert.Equal("v1-face", plan["recipe"]!.GetValue<string>());
        Assert.Equal(512, plan["template"]!["width"]!.GetValue<int>());
        var inpaint = plan["requests"]!.AsArray().First(r => r!["step"]!.GetValue<string>() == "inpaint")!["body"]!;
        Assert.EndsWith("vintage film look, <lora:add_detail:0.7>", inpaint["prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0.5, inpaint["denoising_strength"]!.GetValue<double>());

        // A recipe given wins over the template's; the user's --set over the template's override.
        (code, output, error) = await CliRunner.RunAsync("recipe", "explain", "v2", "--template", "styled", "--templates", library, "--set", "inpaint.denoising_strength=0.3", "--json");
        Assert.True(code == 0, error);
        plan = JsonNode.Parse(output)!;
        Assert.Equal("v2", plan["recipe"]!.GetValue<string>());
        Assert.Equal(0.3, plan["requests"]!.AsArray().First(r => r!["step"]!.GetValue<string>() == "inpaint")!["body"]!["denoising_strength"]!.GetValue<double>());

        (code, _, error) = await CliRunner.RunAsync("recipe", "explain", "--template", "stlyed", "--templates", library);
        Assert.Equal(2, code);
        Assert.Contains("no template 'stlyed'", error, StringComparison.Ordinal);
        Assert.Contains("did you mean 'styled'?", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sweep_ByTemplateName_EveryCellGetsTheStyleLora()
    {
        using var server = MockWebUiServer.Start();
        var library = StyledLibrary();

        var (code, output, error) = await CliRunner.RunAsync(
            "sweep", "--template", "styled", "--templates", library, "--lora", "miaoya_demo_face", "--vary", "inpaint.steps=10,12",
            "--webui", server.Url.ToString(), "--out", Path.Combine(_folder, "sweep"), "--seed", "4");

        Assert.True(code == 0, error + output);
        var prompts = server.WireMock.LogEntries.Where(e => e.RequestMessage?.Path == "/sdapi/v1/img2img")
            .Select(e => JsonNode.Parse(e.RequestMessage!.Body!)!["prompt"]!.GetValue<string>()).ToList();
        Assert.Equal(2, prompts.Count);
        Assert.All(prompts, p => Assert.EndsWith("vintage film look, <lora:add_detail:0.7>", p, StringComparison.Ordinal));
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
