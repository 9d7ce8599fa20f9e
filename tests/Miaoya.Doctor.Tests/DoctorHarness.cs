using Microsoft.Extensions.DependencyInjection;
using Miaoya.MockWebUi;
using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Doctor.Tests;

/// <summary>Mock boxes and clients wired as the doctor command wires them.</summary>
internal sealed class DoctorHarness : IDisposable
{
    private readonly ServiceProvider _provider;
    private readonly List<MockWebUiServer> _servers = [];

    public DoctorHarness()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddWebUiClient(o =>
        {
            o.ControlRetries = 1;
            o.ControlRetryDelay = TimeSpan.FromMilliseconds(10);
        });
        _provider = services.BuildServiceProvider();
    }

    public static IReadOnlyList<Recipe> BuiltInRecipes => RecipeLoader.BuiltInNames.Select(n => RecipeLoader.LoadBuiltIn(n)).ToArray();

    /// <summary>
    /// A mock box with 4 ControlNet unit slots, enough for every built-in recipe (v4-faceid takes 3 units + 1 identity unit;
    /// a default box has 3): <see cref="StartDefaultSlots"/> for one with the WebUI's default.
    /// </summary>
    public MockWebUiServer Start(MockWebUiProfile profile = MockWebUiProfile.WebUi110, string? auth = null, params string[] without) =>
        Start(4, profile, auth, without);

    /// <summary>A mock box with the WebUI's default 3 ControlNet unit slots.</summary>
    public MockWebUiServer StartDefaultSlots(params string[] without) => Start(3, MockWebUiProfile.WebUi110, null, without);

    private MockWebUiServer Start(int units, MockWebUiProfile profile, string? auth, string[] without)
    {
        var options = new MockWebUiOptions { Profile = profile, Auth = auth, ControlNetUnitCount = units };
        foreach (var name in without)
        {
            options.Without.Add(name);
        }

        var server = MockWebUiServer.Start(options);
        _servers.Add(server);
        return server;
    }

    public WebUiClient Client(Uri url, string? auth = null) =>
        _provider.GetRequiredService<WebUiClientFactory>().Create(WebUiEndpoint.WithAuth(url, auth));

    public Task<BoxReport> CheckAsync(
        MockWebUiServer server, string? lora = "miaoya_demo_face", IReadOnlyList<Recipe>? recipes = null, string? auth = null, bool deep = false) =>
        WebUiDoctor.CheckBoxAsync(Client(server.Url, auth), recipes ?? BuiltInRecipes, lora, WebUiManifest.BuiltIn, deep ? Face : null);

    /// <summary>The astronaut portrait (public domain; the CLI's bundled template), the --deep test face.</summary>
    public static Miaoya.Imaging.EncodedImage Face { get; } =
        new(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut.png")));

    /// <summary>The built-in recipes that do not carry an identity unit.</summary>
    public static IReadOnlyList<Recipe> PlainRecipes => BuiltInRecipes.Where(r => r.Identity is null).ToArray();

    /// <summary>A URL on which nothing listens (a port just released).</summary>
    public static Uri ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }

    public void Dispose()
    {
        _provider.Dispose();
        foreach (var server in _servers)
        {
            server.Dispose();
        }
    }
}

internal static class RowExtensions
{
    public static DoctorRow Row(this BoxReport report, string check) =>
        report.Rows.SingleOrDefault(r => r.Check == check) ?? throw new Xunit.Sdk.XunitException(
            $"no row '{check}'; rows: {string.Join(" | ", report.Rows.Select(r => r.Check))}");

    public static IEnumerable<DoctorRow> Missing(this BoxReport report) => report.Rows.Where(r => r.Status == DoctorStatus.Missing);
}
