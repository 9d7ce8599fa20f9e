using System.Net.Http.Json;
using System.Text.Json;
using Miaoya.Hosting;
using Miaoya.MockWebUi;
using Miaoya.Runner;

namespace Miaoya.Server.Tests;

/// <summary><c>serve</c> reads the configuration every command reads (<see cref="MiaoyaConfiguration"/>), and refuses a bad one naming its file.</summary>
public sealed class ServerConfigurationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-server-configuration-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private ServerOptions Options() => new()
    {
        Urls = ["http://127.0.0.1:0"],
        ApiKey = ServerHarness.Key,
        Runner = new JobRunnerOptions { JobsDirectory = Path.Combine(_folder, "jobs"), OwnershipCheckInterval = TimeSpan.FromMilliseconds(500) },
    };

    [Fact]
    public async Task StartAsync_TheFleetBoxesOfMiaoyaJson_AreServed()
    {
        using var box = MockWebUiServer.Start();
        await File.WriteAllTextAsync(Path.Combine(_folder, "miaoya.json"), $$"""{ "Fleet": { "Boxes": [ { "Url": "{{box.Url}}", "Name": "from-json" } ] } }""");

        await using var server = await MiaoyaServer.StartAsync(Options(), MiaoyaConfiguration.Load(_folder, new Dictionary<string, string>()));
        using var client = new HttpClient { BaseAddress = server.Urls[0] };
        client.DefaultRequestHeaders.Add("X-Api-Key", ServerHarness.Key);
        var backends = await client.GetFromJsonAsync<JsonElement>("/v1/backends");

        var served = Assert.Single(backends.GetProperty("boxes").EnumerateArray());
        Assert.Equal("from-json", served.GetProperty("name").GetString());
        await server.StopAsync();
    }

    [Fact]
    public async Task StartAsync_WithoutAKey_NoAuth_Starts_AndAnswersRequestsThatCarryNone()
    {
        // serve --no-auth once failed to start at all: the key middleware was given a null digest, which UseMiddleware
        // cannot match to a constructor parameter.
        using var box = MockWebUiServer.Start();
        await using var server = await MiaoyaServer.StartAsync(Options() with { ApiKey = null, AllowAnonymous = true, Boxes = [new Miaoya.Fleet.BoxOptions { Name = "box0", Url = box.Url }] });
        using var client = new HttpClient { BaseAddress = server.Urls[0] };

        using var jobs = await client.GetAsync("/v1/jobs");
        using var token = await client.PostAsync("/v1/event-tokens", null);

        Assert.Equal(System.Net.HttpStatusCode.OK, jobs.StatusCode);
        Assert.True(token.IsSuccessStatusCode, $"{(int)token.StatusCode} {await token.Content.ReadAsStringAsync()}");
        await server.StopAsync();
    }

    [Fact]
    public async Task StartAsync_ABadValueInMiaoyaJson_IsAConfigurationError_NamingTheFileAndTheKey()
    {
        await File.WriteAllTextAsync(Path.Combine(_folder, "miaoya.json"), """{ "Fleet": { "MaxAttempts": "many", "Boxes": [ { "Url": "http://127.0.0.1:9" } ] } }""");
        var environment = new Dictionary<string, string> { ["MIAOYA_WebUi__BreakerFailureRatio"] = "2" };

        var error = await Assert.ThrowsAsync<ServerConfigurationException>(() => MiaoyaServer.StartAsync(Options(), MiaoyaConfiguration.Load(_folder, environment)));

        Assert.Contains("miaoya.json: Fleet:MaxAttempts: 'many' is not a whole number.", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_folder, "jobs")), "nothing is created before the configuration is fine");

        await File.WriteAllTextAsync(Path.Combine(_folder, "miaoya.json"), """{ "Fleet": { "Boxes": [ { "Url": "http://127.0.0.1:9" } ] } }""");
        error = await Assert.ThrowsAsync<ServerConfigurationException>(() => MiaoyaServer.StartAsync(Options(), MiaoyaConfiguration.Load(_folder, environment)));
        Assert.Contains("MIAOYA_WebUi__BreakerFailureRatio: The field BreakerFailureRatio must be between 0.01 and 1.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_ASecondInstanceOnTheSameSqliteStore_IsRefusedNamingTheFirst_AnApiOnlyOneIsNot()
    {
        using var box = MockWebUiServer.Start();
        var options = Options() with { Boxes = [new Miaoya.Fleet.BoxOptions { Name = "box0", Url = box.Url }] };
        await using var first = await MiaoyaServer.StartAsync(options, MiaoyaConfiguration.Load(_folder, new Dictionary<string, string>()));

        // The first instance's engine starts once its fleet has probed the box; from then on the file is its own.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!Held(Path.Combine(_folder, "jobs", "jobs.db")))
        {
            await Task.Delay(50, timeout.Token);
        }

        var refused = await Assert.ThrowsAsync<ServerConfigurationException>(() => MiaoyaServer.StartAsync(options, MiaoyaConfiguration.Load(_folder, new Dictionary<string, string>())));
        Assert.Contains($"pid {Environment.ProcessId}) runs jobs from", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--no-worker", refused.Message, StringComparison.Ordinal);
        await using var apiOnly = await MiaoyaServer.StartAsync(options with { NoWorker = true }, MiaoyaConfiguration.Load(_folder, new Dictionary<string, string>()));
        await apiOnly.StopAsync();
        await first.StopAsync();
    }

    /// <summary>Whether an engine of this process runs the store's jobs (its guard writes the pid beside the file; taking the guard here to look would race it).</summary>
    private static bool Held(string store)
    {
        try
        {
            return File.ReadAllText(store + "-scheduler.pid").Trim() == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
