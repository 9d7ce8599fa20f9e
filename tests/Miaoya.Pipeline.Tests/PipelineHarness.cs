using Microsoft.Extensions.DependencyInjection;
using Miaoya.MockWebUi;
using Miaoya.Recipes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline.Tests;

/// <summary>A mock WebUI, the pipeline wired as the product wires it, and a scratch folder per test.</summary>
internal sealed class PipelineHarness : IDisposable
{
    private readonly ServiceProvider _provider;

    public PipelineHarness(
        MockWebUiProfile profile = MockWebUiProfile.WebUi110, Action<Miaoya.WebUi.WebUiOptions>? configure = null, TimeSpan latency = default, Func<MockWebUiOptions, MockWebUiOptions>? mock = null)
    {
        var options = new MockWebUiOptions { Profile = profile, Latency = latency };
        Server = MockWebUiServer.Start(mock is null ? options : mock(options));
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddPortraitPipeline(o =>
        {
            o.BaseUrl = Server.Url;
            o.ControlRetryDelay = TimeSpan.FromMilliseconds(10);
            configure?.Invoke(o);
        });
        _provider = services.BuildServiceProvider();
        Pipeline = _provider.GetRequiredService<PortraitPipeline>();
        Client = _provider.GetRequiredService<Miaoya.WebUi.WebUiClient>();
        Folder = Path.Combine(Path.GetTempPath(), "miaoya-pipeline-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    public MockWebUiServer Server { get; }

    public PortraitPipeline Pipeline { get; }

    public Miaoya.WebUi.WebUiClient Client { get; }

    public string Folder { get; }

    public static string Astronaut => Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut.png");

    public static string RecipePath(string name) => Path.Combine(AppContext.BaseDirectory, "recipes", name + ".yaml");

    public RunRequest Request(string recipe, string? template = null, IReadOnlyList<string>? overrides = null, string lora = "miaoya_demo_face:0.9") => new()
    {
        Recipe = RecipeLoader.Load(RecipePath(recipe), overrides ?? []),
        Overrides = overrides ?? [],
        TemplatePath = template ?? Astronaut,
        Lora = LoraChoice.Parse(lora),
        Seed = 1234,
        OutputDirectory = Path.Combine(Folder, recipe),
    };

    public IReadOnlyList<System.Text.Json.Nodes.JsonNode> Received(string path) =>
        Server.WireMock.LogEntries
            .Where(e => e.RequestMessage!.Path == path)
            .Select(e => System.Text.Json.Nodes.JsonNode.Parse(e.RequestMessage!.Body!)!)
            .ToList();

    public int Count(string path) => Server.WireMock.LogEntries.Count(e => e.RequestMessage!.Path == path);

    /// <summary>Writes an image made in code, for bad-input tests.</summary>
    public string Write(string name, Action<Stream> save)
    {
        var path = Path.Combine(Folder, name);
        using var file = File.Create(path);
        save(file);
        return path;
    }

    public static Image<Rgb24> LoadRgb(string path) => Image.Load<Rgb24>(path);


    public void Dispose()
    {
        _provider.Dispose();
        Server.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
