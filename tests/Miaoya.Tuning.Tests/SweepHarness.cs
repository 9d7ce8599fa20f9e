using Microsoft.Extensions.DependencyInjection;
using Miaoya.Fleet;
using Miaoya.MockWebUi;
using Miaoya.Pipeline;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Tuning.Tests;

/// <summary>Mock WebUI boxes with the pipeline wired as the product wires it, and a scratch folder.</summary>
internal sealed class SweepHarness : IDisposable
{
    private readonly ServiceProvider? _provider;

    /// <summary>Mock boxes behind one fleet, as <c>miaoya sweep</c> wires them.</summary>
    public SweepHarness(int boxes = 1, Action<FleetOptions>? fleet = null, MockWebUiOptions? mock = null)
    {
        Folder = Path.Combine(Path.GetTempPath(), "miaoya-tuning-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        for (var i = 0; i < boxes; i++)
        {
            Servers.Add(MockWebUiServer.Start(mock));
        }

        if (boxes == 0)
        {
            return;
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddWebUiFleet(o =>
        {
            for (var i = 0; i < boxes; i++)
            {
                o.Boxes.Add(new BoxOptions { Name = $"box{i}", Url = Servers[i].Url });
            }

            fleet?.Invoke(o);
        });
        services.AddPortraitPipeline(o => o.ControlRetryDelay = TimeSpan.FromMilliseconds(10));
        _provider = services.BuildServiceProvider();
        Fleet = _provider.GetRequiredService<WebUiFleet>();
        Fleet.StartAsync().GetAwaiter().GetResult();
    }

    public List<MockWebUiServer> Servers { get; } = [];

    public WebUiFleet Fleet { get; } = null!;

    /// <summary>A runner over the fleet, one cell in flight per box; with <paramref name="likeness"/>, cells are scored.</summary>
    public SweepRunner Runner(SweepLikeness? likeness = null) => new(_provider!.GetRequiredService<PortraitPipeline>(), [.. Fleet.Status().Select(b => b.Name)], Servers.Count, likeness);

    public string Folder { get; }

    public static string Astronaut => Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut.png");

    /// <summary>A photo of another person (a small, partly turned face), the face photo of identity sweeps.</summary>
    public static string Camera => Path.Combine(AppContext.BaseDirectory, "Fixtures", "camera.png");

    /// <summary>The SFace stand-in (not SFace: it measures coarse pixel likeness of the aligned face).</summary>
    public static string ScorerModel => Path.Combine(AppContext.BaseDirectory, "StandInModels", "face_recognition_sface_2021dec.onnx");

    public static SweepDefinition Definition(params SweepAxis[] axes) => new()
    {
        Recipe = "v1-face",
        Template = Astronaut,
        Lora = "miaoya_demo_face:0.9",
        Seed = 4242,
        Axes = axes,
    };

    /// <summary>A photo of the person in the sweep folder: the astronaut, mirrored, padded and tilted a little (as the pipeline tests make them).</summary>
    public string FacePhoto(string name, float degrees = 4, int pad = 40)
    {
        var path = Path.Combine(Folder, "photos", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var photo = Image.Load<Rgb24>(Astronaut);
        photo.Mutate(c => c.Flip(FlipMode.Horizontal).Pad(photo.Width + pad, photo.Height + pad, Color.Gray).Rotate(degrees));
        photo.SaveAsPng(path);
        return path;
    }

    public int Img2ImgCount(int box = 0) => Servers[box].WireMock.LogEntries.Count(e => e.RequestMessage!.Path == "/sdapi/v1/img2img");

    public void Dispose()
    {
        _provider?.DisposeAsync().AsTask().GetAwaiter().GetResult();

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
