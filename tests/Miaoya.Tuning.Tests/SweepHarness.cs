using Microsoft.Extensions.DependencyInjection;
using Miaoya.MockWebUi;
using Miaoya.Pipeline;

namespace Miaoya.Tuning.Tests;

/// <summary>Mock WebUI boxes with the pipeline wired as the product wires it, and a scratch folder.</summary>
internal sealed class SweepHarness : IDisposable
{
    private readonly List<ServiceProvider> _providers = [];

    public SweepHarness(int boxes = 1)
    {
        Folder = Path.Combine(Path.GetTempPath(), "miaoya-tuning-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        for (var i = 0; i < boxes; i++)
        {
            var server = MockWebUiServer.Start();
            Servers.Add(server);
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddPortraitPipeline(o =>
            {
                o.BaseUrl = server.Url;
                o.ControlRetryDelay = TimeSpan.FromMilliseconds(10);
            });
            var provider = services.BuildServiceProvider();
            _providers.Add(provider);
            Boxes.Add(new SweepBox(server.Url.ToString(), provider.GetRequiredService<PortraitPipeline>()));
        }
    }

    public List<MockWebUiServer> Servers { get; } = [];

    public List<SweepBox> Boxes { get; } = [];

    public string Folder { get; }

    public static string Astronaut => Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut.png");

    public static SweepDefinition Definition(params SweepAxis[] axes) => new()
    {
        Recipe = "v1-face",
        Template = Astronaut,
        Lora = "miaoya_demo_face:0.9",
        Seed = 4242,
        Axes = axes,
    };

    public int Img2ImgCount(int box = 0) => Servers[box].WireMock.LogEntries.Count(e => e.RequestMessage!.Path == "/sdapi/v1/img2img");

    public void Dispose()
    {
        foreach (var provider in _providers)
        {
            provider.Dispose();
        }

        foreach (var server in Servers)
        {
            server.Dispose();
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
