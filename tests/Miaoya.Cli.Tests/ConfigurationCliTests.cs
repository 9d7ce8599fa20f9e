using Miaoya.Hosting;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Tests;

/// <summary>
/// One configuration for every command: appsettings.json, then miaoya.json (in the working folder), then the MIAOYA_
/// environment, then the command line's flags. Commands run as their own processes, in a folder of their own.
/// </summary>
[Collection(ConsoleTests.Name)]
public sealed class ConfigurationCliTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-configuration-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private Task<(int Code, string Out, string Error)> RunInFolderAsync(string[] args, IReadOnlyDictionary<string, string>? environment = null) =>
        CliRunner.RunProcessAsync(args, environment, workingDirectory: _folder);

    private void WriteFile(string name, string json) => File.WriteAllText(Path.Combine(_folder, name), json);

    private static void AssertRefused((int Code, string Out, string Error) result, params string[] expected)
    {
        Assert.True(result.Code == 2, $"exit {result.Code}{Environment.NewLine}{result.Out}{result.Error}");
        foreach (var part in expected)
        {
            Assert.Contains(part, result.Error, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("   at ", result.Out + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_WithoutWebUi_TalksToTheBoxOfMiaoyaWebUiBaseUrl()
    {
        using var box = MockWebUiServer.Start();

        var (code, output, error) = await RunInFolderAsync(["probe"], new Dictionary<string, string> { ["MIAOYA_WebUi__BaseUrl"] = box.Url.ToString() });

        Assert.True(code == 0, output + error);
        Assert.Contains($"WebUI         {box.Url}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_WithoutWebUi_TalksToTheBoxOfMiaoyaJson_WithItsCredentials()
    {
        using var box = MockWebUiServer.Start(new MockWebUiOptions { Auth = "ann:pw" });
        WriteFile("miaoya.json", $$"""{ "WebUi": { "BaseUrl": "{{box.Url}}", "Username": "ann", "Password": "pw", "ControlRetries": 1 } }""");

        var (code, output, error) = await RunInFolderAsync(["probe"]);

        Assert.True(code == 0, output + error);
        Assert.Contains($"WebUI         {box.Url}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_WithoutWebUi_ChecksTheBoxOfMiaoyaWebUiBaseUrl()
    {
        using var box = MockWebUiServer.Start();

        var (code, output, error) = await RunInFolderAsync(["doctor", "v2", "--lora", "miaoya_demo_face"], new Dictionary<string, string> { ["MIAOYA_WebUi__BaseUrl"] = box.Url.ToString() });

        Assert.True(code == 0, output + error);
        Assert.Contains($"{box.Url}  A1111 ≥ 1.10  — recipes v2", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BoxAddress_FlagWinsOverEnvironment_WhichWinsOverMiaoyaJson_WhichWinsOverAppSettings()
    {
        // Nothing listens on port 9: a run that picks it fails with exit 1.
        using var box = MockWebUiServer.Start();
        const string Nowhere = "http://127.0.0.1:9/";
        WriteFile("appsettings.json", $$"""{ "WebUi": { "BaseUrl": "{{box.Url}}", "ControlRetries": 0 }, "Kestrel": { "Limits": {} } }""");
        var fromAppSettings = await RunInFolderAsync(["probe"]);
        Assert.True(fromAppSettings.Code == 0, fromAppSettings.Out + fromAppSettings.Error);

        WriteFile("miaoya.json", $$"""{ "WebUi": { "BaseUrl": "{{Nowhere}}" } }""");
        var fromMiaoyaJson = await RunInFolderAsync(["probe"]);
        Assert.Equal(1, fromMiaoyaJson.Code);
        Assert.Contains("127.0.0.1:9", fromMiaoyaJson.Error, StringComparison.Ordinal);

        var fromEnvironment = await RunInFolderAsync(["probe"], new Dictionary<string, string> { ["MIAOYA_WebUi__BaseUrl"] = box.Url.ToString() });
        Assert.True(fromEnvironment.Code == 0, fromEnvironment.Out + fromEnvironment.Error);

        var fromFlag = await RunInFolderAsync(["probe", "--webui", box.Url.ToString()], new Dictionary<string, string> { ["MIAOYA_WebUi__BaseUrl"] = Nowhere });
        Assert.True(fromFlag.Code == 0, fromFlag.Out + fromFlag.Error);
        Assert.Contains($"WebUI         {box.Url}", fromFlag.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MiaoyaJson_BadValues_AreRefusedWithExit2_NamingTheFileAndTheKey()
    {
        using var box = MockWebUiServer.Start();
        WriteFile("miaoya.json", """{ "WebUi": { "ControlRetries": 99, "GenerationTimeout": "soon" }, "Fleet": { "HealthInterval": "00:00:00" } }""");

        // Values that are not of their type first: the rules are checked once everything converts.
        AssertRefused(
            await RunInFolderAsync(["probe", "--webui", box.Url.ToString()]),
            "error: the configuration has problems (miaoya.json, MIAOYA_* environment variables):",
            "miaoya.json: WebUi:GenerationTimeout: 'soon' is not a duration");

        WriteFile("miaoya.json", """{ "WebUi": { "ControlRetries": 99 }, "Fleet": { "HealthInterval": "00:00:00" } }""");
        var result = await RunInFolderAsync(["probe", "--webui", box.Url.ToString()]);

        AssertRefused(result, "miaoya.json: WebUi:ControlRetries: The field ControlRetries must be between 0 and 10.", "miaoya.json: Fleet:HealthInterval: 00:00:00 must be positive.");
        Assert.DoesNotContain(box.WireMock.LogEntries, e => e.RequestMessage?.Path?.StartsWith("/sdapi", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task MiaoyaJson_UnknownKeysAndSections_AreNamed_AndAFileThatIsNotJsonToo()
    {
        WriteFile("miaoya.json", """{ "WebUi": { "ControlRetrys": 1 }, "Fleet": { "Boxes": [ { "Url": "http://gpu-1:7860", "Gpu": "4090" } ] }, "Webui2": {} }""");

        AssertRefused(
            await RunInFolderAsync(["probe", "--webui", "http://127.0.0.1:9"]),
            "miaoya.json: WebUi:ControlRetrys: unknown setting; known: BaseUrl, Username, Password, ControlAttemptTimeout",
            "miaoya.json: Fleet:Boxes:0:Gpu: unknown setting",
            "miaoya.json: Webui2: unknown section; known: WebUi, Fleet, Jobs, Templates, Logging.");

        WriteFile("miaoya.json", """{ "WebUi": { "BaseUrl": "http://127.0.0.1:9" """);
        AssertRefused(await RunInFolderAsync(["probe"]), "miaoya.json: not a JSON object of settings");
    }

    [Fact]
    public async Task AppSettingsJson_OtherHostsSectionsAreLeftAlone_ButAnUnknownWebUiKeyIsNamed()
    {
        WriteFile("appsettings.json", """{ "AllowedHosts": "*", "WebUi": { "Timeout": "00:01:00" } }""");

        var result = await RunInFolderAsync(["probe", "--webui", "http://127.0.0.1:9"]);

        AssertRefused(result, "appsettings.json: WebUi:Timeout: unknown setting");
        Assert.DoesNotContain("AllowedHosts", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_WithoutWebUi_RunsOnTheFleetBoxesOfTheEnvironment()
    {
        using var box = MockWebUiServer.Start();
        Directory.CreateDirectory(Path.Combine(_folder, "templates"));
        await using (var stream = typeof(CliApp).Assembly.GetManifestResourceStream("template-astronaut.png")!)
        await using (var file = File.Create(Path.Combine(_folder, "templates", "a.png")))
        {
            await stream.CopyToAsync(file);
        }

        var jobs = Path.Combine(_folder, "jobs.yaml");
        await File.WriteAllTextAsync(jobs, """
            templates: ["templates/a.png"]
            identities:
              - name: anna
                lora: miaoya_demo_face:0.9
            recipes: [v1-face]
            """);

        var (code, output, error) = await RunInFolderAsync(
            ["batch", jobs, "--out", Path.Combine(_folder, "out")],
            new Dictionary<string, string> { ["MIAOYA_Fleet__Boxes__0__Url"] = box.Url.ToString(), ["MIAOYA_Fleet__Boxes__0__Name"] = "gpu-env" });

        Assert.True(code == 0, output + error);
        Assert.Contains("1 box,", output, StringComparison.Ordinal);
        Assert.Contains("Boxes: gpu-env ", output, StringComparison.Ordinal);
        Assert.Contains(box.WireMock.LogEntries, e => e.RequestMessage?.Path == "/sdapi/v1/img2img");
    }

    [Fact]
    public void Load_NamesEachProblemByItsSource_TheLastSourceWinning()
    {
        File.WriteAllText(Path.Combine(_folder, "miaoya.json"), """{ "WebUi": { "ControlRetries": 2, "BreakerBreakDuration": "00:00:00.1" } }""");
        var environment = new Dictionary<string, string>
        {
            ["MIAOYA_WebUi__ControlRetries"] = "11",
            ["MIAOYA_API_KEY"] = "not a setting of a section",
            ["PATH"] = "/usr/bin",
        };

        var configuration = MiaoyaConfiguration.Load(_folder, environment);

        Assert.Equal(["miaoya.json", "MIAOYA_* environment variables"], configuration.Sources);
        Assert.Equal("11", configuration.Root["WebUi:ControlRetries"]);
        Assert.Equal("MIAOYA_WebUi__ControlRetries", configuration.SourceOf("WebUi:ControlRetries"));
        Assert.Equal("miaoya.json", configuration.SourceOf("WebUi:BreakerBreakDuration"));
        Assert.Null(configuration.SourceOf("WebUi:BaseUrl"));
        Assert.Equal(
            [
                "MIAOYA_WebUi__ControlRetries: The field ControlRetries must be between 0 and 10.",
                "miaoya.json: WebUi:BreakerBreakDuration: The field BreakerBreakDuration must be between 00:00:00.5000000 and 01:00:00.",
            ],
            configuration.Problems.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void KeepJobs_FromTheJobsSection_BadValuesNamedByTheirSource()
    {
        Assert.Equal(TimeSpan.FromDays(30), MiaoyaConfiguration.Load(_folder, new Dictionary<string, string>()).KeepJobs);

        File.WriteAllText(Path.Combine(_folder, "miaoya.json"), """{ "Jobs": { "KeepJobs": "7d" } }""");
        Assert.Equal(TimeSpan.FromDays(7), MiaoyaConfiguration.Load(_folder, new Dictionary<string, string>()).KeepJobs);
        var off = MiaoyaConfiguration.Load(_folder, new Dictionary<string, string> { ["MIAOYA_Jobs__KeepJobs"] = "off" });
        Assert.Empty(off.Problems);
        Assert.Null(off.KeepJobs);

        var bad = MiaoyaConfiguration.Load(_folder, new Dictionary<string, string> { ["MIAOYA_Jobs__KeepJobs"] = "3x", ["MIAOYA_Jobs__Keep"] = "1" });
        Assert.Equal(["MIAOYA_Jobs__Keep: unknown setting; known: KeepJobs."], bad.Problems);
        var badValue = MiaoyaConfiguration.Load(_folder, new Dictionary<string, string> { ["MIAOYA_Jobs__KeepJobs"] = "3x" });
        Assert.Equal(["MIAOYA_Jobs__KeepJobs: '3x' is not a duration; give e.g. 30d, 12h or 0 (keep every job)."], badValue.Problems);
    }

    [Fact]
    public async Task KeepJobs_ABadFlag_Exits2NamingIt()
    {
        var serve = await RunInFolderAsync(["serve", "--keep-jobs", "soon", "--no-auth"]);
        AssertRefused(serve, "--keep-jobs: 'soon' is not a duration");
        var batch = await RunInFolderAsync(["batch", "jobs.yaml", "--keep-jobs", "5m"]);
        AssertRefused(batch, "--keep-jobs: '5m' is shorter than 1h");
    }

    [Fact]
    public void Endpoint_TheFlagWinsKeyByKey_AndWithoutAnythingItIsTheDefaultBox()
    {
        File.WriteAllText(Path.Combine(_folder, "miaoya.json"), """{ "WebUi": { "BaseUrl": "http://gpu-1:7860", "Username": "ann", "Password": "pw" } }""");
        var configuration = MiaoyaConfiguration.Load(_folder, new Dictionary<string, string>());

        Assert.Empty(configuration.Problems);
        Assert.True(configuration.HasBaseUrl);
        Assert.Equal(new Miaoya.WebUi.WebUiEndpoint(new Uri("http://gpu-1:7860"), "ann", "pw"), configuration.Endpoint(null, null));
        Assert.Equal(new Miaoya.WebUi.WebUiEndpoint(new Uri("http://gpu-2:7860"), "ann", "pw"), configuration.Endpoint(new Uri("http://gpu-2:7860"), null));
        Assert.Equal(new Miaoya.WebUi.WebUiEndpoint(new Uri("http://gpu-1:7860"), "bob", "x"), configuration.Endpoint(null, "bob:x"));

        var empty = MiaoyaConfiguration.Load(Path.Combine(_folder, "nowhere"), new Dictionary<string, string>());
        Assert.False(empty.HasBaseUrl);
        Assert.Equal(["MIAOYA_* environment variables"], empty.Sources);
        Assert.Equal(new Uri("http://127.0.0.1:7860/"), empty.Endpoint(null, null).BaseUrl);
    }
}
