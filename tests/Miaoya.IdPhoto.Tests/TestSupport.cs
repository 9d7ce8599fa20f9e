using Microsoft.Extensions.DependencyInjection;
using Miaoya.Faces;
using Miaoya.MockWebUi;
using Miaoya.WebUi;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.IdPhoto.Tests;

/// <summary>Fixtures (Fixtures/README.md), one shared detector, and generated variants of the astronaut photo.</summary>
internal static class TestSupport
{
    private static readonly Lazy<BlazeFaceDetector> SharedDetector = new(() => BlazeFaceDetector.CreateDefault());

    public static BlazeFaceDetector Detector => SharedDetector.Value;

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static Image<Rgb24> Astronaut() => Image.Load<Rgb24>(PathOf("astronaut.png"));

    /// <summary>The astronaut rotated by <paramref name="degrees"/> (clockwise), on a grey canvas of the same size.</summary>
    public static Image<Rgb24> Tilted(float degrees)
    {
        using var a = Astronaut();
        var rotated = a.Clone(c => c.Rotate(degrees));
        var canvas = new Image<Rgb24>(a.Width, a.Height, new Rgb24(128, 128, 128));
        canvas.Mutate(c => c.DrawImage(rotated, new Point((a.Width - rotated.Width) / 2, (a.Height - rotated.Height) / 2), 1f));
        rotated.Dispose();
        return canvas;
    }

    /// <summary>The astronaut pasted at (<paramref name="x"/>, <paramref name="y"/>) of a larger grey canvas, scaled by <paramref name="scale"/>.</summary>
    public static Image<Rgb24> Placed(int canvasWidth, int canvasHeight, int x, int y, float scale = 1)
    {
        using var a = Astronaut();
        using var scaled = a.Clone(c => c.Resize((int)(a.Width * scale), (int)(a.Height * scale)));
        var canvas = new Image<Rgb24>(canvasWidth, canvasHeight, new Rgb24(128, 128, 128));
        canvas.Mutate(c => c.DrawImage(scaled, new Point(x, y), 1f));
        return canvas;
    }

    /// <summary>Two astronauts side by side.</summary>
    public static Image<Rgb24> TwoFaces()
    {
        using var a = Astronaut();
        var canvas = new Image<Rgb24>(a.Width * 2, a.Height);
        canvas.Mutate(c => c.DrawImage(a, new Point(0, 0), 1f).DrawImage(a, new Point(a.Width, 0), 1f));
        return canvas;
    }
}

/// <summary>A mock WebUI and a client wired as the product wires it.</summary>
public sealed class MockBox : IDisposable
{
    private readonly ServiceProvider _provider;

    public MockBox()
    {
        Server = MockWebUiServer.Start(new MockWebUiOptions());
        var services = new ServiceCollection();
        services.AddWebUiClient(o =>
        {
            o.BaseUrl = Server.Url;
            o.GenerationTimeout = TimeSpan.FromSeconds(30);
        });
        _provider = services.BuildServiceProvider();
        Client = _provider.GetRequiredService<WebUiClientFactory>().Create(WebUiEndpoint.WithAuth(Server.Url, null));
    }

    public MockWebUiServer Server { get; }

    public WebUiClient Client { get; }

    public void Dispose()
    {
        _provider.Dispose();
        Server.Dispose();
    }
}
