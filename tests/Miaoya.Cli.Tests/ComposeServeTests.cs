using System.Net.Http.Json;
using System.Text.Json;
using Miaoya.Cli.Commands;
using Miaoya.MockWebUi;
using Miaoya.Server;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Cli.Tests;

/// <summary>
/// docker-compose.yml's <c>orchestrator</c> service without containers: its command line, parsed by the CLI, and its
/// environment (the webui service's URL as <c>MIAOYA_Fleet__Boxes__0__Url</c>, the key as <c>MIAOYA_API_KEY</c>) start
/// <c>miaoya serve</c> in-process against a mock box standing in for <c>webui</c>.
/// </summary>
[Collection(ConsoleTests.Name)]
public sealed class ComposeServeTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("miaoya-compose-serve-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task OrchestratorService_ServesWithTheWebUiBoxFromItsEnvironment()
    {
        var orchestrator = Service("orchestrator");
        var command = ((YamlSequenceNode)orchestrator["command"]).Children.Select(c => c.ToString()).ToList();
        Assert.Equal("serve", command[0]);
        var environment = ((YamlMappingNode)orchestrator["environment"]).Children.ToDictionary(c => c.Key.ToString(), c => c.Value.ToString());
        Assert.Equal("http://webui:7860", environment["MIAOYA_Fleet__Boxes__0__Url"]);
        Assert.Equal("${MIAOYA_API_KEY:-}", environment["MIAOYA_API_KEY"]);
        var url = command[command.IndexOf("--urls") + 1];
        Assert.Equal("http://0.0.0.0:5080", url);
        Assert.Contains("5080:5080", ((YamlSequenceNode)orchestrator["ports"]).Children.Select(c => c.ToString()));
        Assert.Contains("miaoya-jobs:/data", ((YamlSequenceNode)orchestrator["volumes"]).Children.Select(c => c.ToString()));
        Assert.StartsWith("/data/", command[command.IndexOf("--jobs-dir") + 1], StringComparison.Ordinal);
        Assert.StartsWith("/data/", command[command.IndexOf("--store") + 1], StringComparison.Ordinal);
        Assert.Contains("webui", ((YamlMappingNode)orchestrator["depends_on"]).Children.Keys.Select(k => k.ToString()));

        using var webui = MockWebUiServer.Start(new MockWebUiOptions { Port = 0 });
        var args = command.Select(a => a == url ? "http://127.0.0.1:0" : a.Replace("/data/", _data + "/", StringComparison.Ordinal)).ToArray();
        const string Key = "compose-test-key-0123456789";
        var saved = (Environment.GetEnvironmentVariable("MIAOYA_API_KEY"), Environment.GetEnvironmentVariable("MIAOYA_Fleet__Boxes__0__Url"));
        Environment.SetEnvironmentVariable("MIAOYA_API_KEY", Key);
        Environment.SetEnvironmentVariable("MIAOYA_Fleet__Boxes__0__Url", environment["MIAOYA_Fleet__Boxes__0__Url"].Replace("http://webui:7860", webui.Url.ToString().TrimEnd('/'), StringComparison.Ordinal));
        try
        {
            var parsed = CliApp.Create().Parse(args);
            Assert.Empty(parsed.Errors);
            await using var server = await MiaoyaServer.StartAsync(ServeCommand.BuildOptions(parsed));
            using var client = new HttpClient { BaseAddress = server.Urls[0] };
            client.DefaultRequestHeaders.Add("X-Api-Key", Key);
            var backends = await client.GetFromJsonAsync<JsonElement>("/v1/backends");
            var box = Assert.Single(backends.GetProperty("boxes").EnumerateArray());
            Assert.Equal(webui.Url.ToString(), box.GetProperty("url").GetString());
            Assert.True(File.Exists(Path.Combine(_data, "jobs.db")), "the store is on the /data volume");
            Assert.True(Directory.Exists(Path.Combine(_data, "jobs")));
            await server.StopAsync();
        }
        finally
        {
            Environment.SetEnvironmentVariable("MIAOYA_API_KEY", saved.Item1);
            Environment.SetEnvironmentVariable("MIAOYA_Fleet__Boxes__0__Url", saved.Item2);
        }
    }

    private static YamlMappingNode Service(string name)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "docker-compose.yml")) || !File.Exists(Path.Combine(root.FullName, "Miaoya.Orchestrator.sln")))
        {
            root = root.Parent ?? throw new InvalidOperationException("repository root not found");
        }

        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(root.FullName, "docker-compose.yml")))
        {
            yaml.Load(reader);
        }

        return (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["services"])[name];
    }
}
