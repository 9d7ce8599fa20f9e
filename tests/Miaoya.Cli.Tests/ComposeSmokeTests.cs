using Miaoya.Imaging;
using Miaoya.MockWebUi;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Cli.Tests;

/// <summary>
/// The smoke profile of docker-compose.yml without containers: its commands, read from the file, run in-process in
/// dependency order against an in-process mock WebUI, with the container's host name and paths mapped to this machine.
/// </summary>
[Collection(ConsoleTests.Name)]
public sealed class ComposeSmokeTests : IDisposable
{
    private static readonly string Root = FindRoot();
    private readonly string _out = Path.Combine(Path.GetTempPath(), "miaoya-smoke-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public async Task SmokeProfile_DoctorThenV2Run_SucceedAgainstTheMock()
    {
        var services = Services();
        var smoke = services.Where(s => Profiles(s.Value).Contains("smoke")).ToDictionary(s => s.Key, s => s.Value);
        Assert.Equal(["mock-webui", "smoke-doctor", "smoke-run"], smoke.Keys.Order(StringComparer.Ordinal));

        // The mock service: `miaoya mock-webui --port P --listen`; the others reach it as http://mock-webui:P.
        var mockCommand = Command(smoke["mock-webui"]);
        Assert.Equal("mock-webui", mockCommand[0]);
        Assert.Contains("--listen", mockCommand);
        var port = mockCommand[mockCommand.IndexOf("--port") + 1];
        using var mock = MockWebUiServer.Start(new MockWebUiOptions { Port = 0 });
        var containerUrl = $"http://mock-webui:{port}";

        // Paths inside the orchestrator image: /app/samples comes from the repository (Dockerfile), /out is a volume.
        var dockerfile = await File.ReadAllTextAsync(Path.Combine(Root, "Dockerfile"));
        Assert.Contains("COPY src/Miaoya.Cli/Assets/template-astronaut.png /app/samples/template-astronaut.png", dockerfile, StringComparison.Ordinal);
        Assert.Contains("./out/smoke:/out", ((YamlSequenceNode)smoke["smoke-run"]["volumes"]).Children.Select(c => c.ToString()));
        string Map(string arg) => arg
            .Replace(containerUrl, mock.Url.ToString().TrimEnd('/'), StringComparison.Ordinal)
            .Replace("/app/samples/", Path.Combine(Root, "src", "Miaoya.Cli", "Assets") + "/", StringComparison.Ordinal)
            .Replace("/out/", _out + "/", StringComparison.Ordinal);

        var ran = new List<string>();
        foreach (var name in Order(smoke).Where(n => n != "mock-webui"))
        {
            var command = Command(smoke[name]);
            Assert.Contains(containerUrl, command);
            var (code, output, error) = await CliRunner.RunAsync([.. command.Select(Map)]);
            Assert.True(code == 0, $"{name}: miaoya {string.Join(' ', command)} exited {code}{Environment.NewLine}{output}{error}");
            ran.Add(name);
        }

        Assert.Equal(["smoke-doctor", "smoke-run"], ran);
        var final = await EncodedImage.ReadFileAsync(Path.Combine(_out, "v2", "final.png"));
        Assert.Equal((512, 512), final.ReadSize());
        Assert.Contains("\"status\": \"succeeded\"", await File.ReadAllTextAsync(Path.Combine(_out, "v2", "manifest.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void WebUiService_GpuApiListenHealthCheckAndModelVolumes()
    {
        var webui = Services()["webui"];

        var command = Command(webui);
        Assert.Contains("--api", command);
        Assert.Contains("--listen", command);
        var device = (YamlMappingNode)((YamlSequenceNode)webui["deploy"]["resources"]["reservations"]["devices"])[0];
        Assert.Equal("nvidia", device["driver"].ToString());
        Assert.Contains("gpu", ((YamlSequenceNode)device["capabilities"]).Children.Select(c => c.ToString()));
        Assert.Contains("/sdapi/v1/", string.Join(' ', ((YamlSequenceNode)webui["healthcheck"]["test"]).Children.Select(c => c.ToString())), StringComparison.Ordinal);
        var volumes = ((YamlSequenceNode)webui["volumes"]).Children.Select(c => c.ToString()).ToList();
        foreach (var folder in new[] { "/webui/models/Stable-diffusion", "/webui/models/Lora", "/webui/models/ControlNet", "/webui/embeddings", "/webui/extensions" })
        {
            Assert.Contains(volumes, v => v.EndsWith(":" + folder, StringComparison.Ordinal));
        }

        // The image installs the manifest's extensions with the install script before starting the WebUI.
        var image = File.ReadAllText(Path.Combine(Root, "webui-extensions", "Dockerfile"));
        Assert.Contains("install-extensions.sh /webui/extensions /opt/miaoya/manifest.yaml", image, StringComparison.Ordinal);
        Assert.Equal("./webui-extensions", webui["build"]["context"].ToString());
    }

    private static Dictionary<string, YamlMappingNode> Services()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(Root, "docker-compose.yml")))
        {
            yaml.Load(reader);
        }

        var services = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["services"];
        return services.Children.ToDictionary(c => c.Key.ToString(), c => (YamlMappingNode)c.Value);
    }

    private static List<string> Command(YamlMappingNode service) =>
        ((YamlSequenceNode)service["command"]).Children.Select(c => c.ToString()).ToList();

    private static string[] Profiles(YamlMappingNode service) =>
        service.Children.TryGetValue("profiles", out var node) ? ((YamlSequenceNode)node).Children.Select(c => c.ToString()).ToArray() : [];

    /// <summary>Services in depends_on order (a service after everything it depends on).</summary>
    private static List<string> Order(Dictionary<string, YamlMappingNode> services)
    {
        var done = new List<string>();
        void Visit(string name)
        {
            if (done.Contains(name))
            {
                return;
            }

            if (services[name].Children.TryGetValue("depends_on", out var deps))
            {
                foreach (var dep in ((YamlMappingNode)deps).Children.Keys)
                {
                    Visit(dep.ToString());
                }
            }

            done.Add(name);
        }

        foreach (var name in services.Keys.Order(StringComparer.Ordinal))
        {
            Visit(name);
        }

        return done;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "docker-compose.yml")) && File.Exists(Path.Combine(dir.FullName, "Miaoya.Orchestrator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("repository root (docker-compose.yml) not found above " + AppContext.BaseDirectory);
    }
}
