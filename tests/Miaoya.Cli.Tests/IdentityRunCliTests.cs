using System.Text.Json.Nodes;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya run v4-faceid --face … --candidates N [--json]</c> against the mock, as a user types it.</summary>
[Collection(ConsoleTests.Name)]
public sealed class IdentityRunCliTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-cli-identity-" + Guid.NewGuid().ToString("N"));

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "LikenessFixtures", name);

    private static string Models => Path.Combine(AppContext.BaseDirectory, "StandInModels");

    [Fact]
    public async Task V4FaceId_WithoutLora_BestOfTwo_Json_IsOneObjectWithTheSelectFigures()
    {
        using var server = MockWebUiServer.Start(new MockWebUiOptions { ControlNetUnitCount = 4 });
        var run = Path.Combine(_folder, "run");

        var (code, output, error) = await CliRunner.RunAsync(
            "run", "v4-faceid", "--template", Fixture("astronaut.png"), "--face", Fixture("astronaut.png"), "--candidates", "2",
            "--models", Models, "--webui", server.Url.ToString(), "--out", run, "--seed", "5", "--json");

        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!;
        Assert.Equal("succeeded", json["status"]!.GetValue<string>());
        Assert.Equal(Path.Combine(run, "final.png"), json["final"]!.GetValue<string>());
        var select = json["steps"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == "select")!;
        Assert.Equal(2, select["result"]!["candidates"]!.AsArray().Count);
        Assert.Equal([5L, 6L], select["result"]!["candidates"]!.AsArray().Select(c => c!["seed"]!.GetValue<long>()));
        Assert.True(select["result"]!["stand_in_models"]!.GetValue<bool>());
        Assert.InRange(select["result"]!["candidates"]![0]!["similarity"]!.GetValue<double>(), -1, 1);
    }

    [Fact]
    public async Task V4FaceId_OnAThreeSlotBox_IsRefusedNamingTheSlots_AndAFaceLessPhotoIsExit2()
    {
        using var server = MockWebUiServer.Start();

        var (code, _, error) = await CliRunner.RunAsync(
            "run", "v4-faceid", "--template", Fixture("astronaut.png"), "--face", Fixture("astronaut.png"), "--webui", server.Url.ToString(), "--out", Path.Combine(_folder, "a"));
        Assert.Equal(1, code);
        Assert.Contains("4 ControlNet units enabled, the box has 3 unit slots", error, StringComparison.Ordinal);

        (code, _, error) = await CliRunner.RunAsync(
            "run", "v4-faceid", "--template", Fixture("astronaut.png"), "--face", Fixture("coffee.png"), "--webui", server.Url.ToString(), "--out", Path.Combine(_folder, "b"));
        Assert.Equal(2, code);
        Assert.Contains("coffee.png: no face found", error, StringComparison.Ordinal);
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
