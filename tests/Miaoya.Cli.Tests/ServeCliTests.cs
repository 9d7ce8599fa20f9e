using Miaoya.Cli.Commands;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya serve</c>'s configuration errors: exit 2 with a message saying what to fix (the API itself: Miaoya.Server.Tests).</summary>
[Collection(ConsoleTests.Name)]
public sealed class ServeCliTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-serve-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Serve_WithoutApiKey_Exits2()
    {
        Assert.Null(Environment.GetEnvironmentVariable("MIAOYA_API_KEY"));
        var (code, _, error) = await CliRunner.RunAsync("serve", "--jobs-dir", Path.Combine(_folder, "jobs"), "--webui", "http://127.0.0.1:7860");
        Assert.Equal(2, code);
        Assert.Contains("no API key: set MIAOYA_API_KEY or give --api-key-file FILE", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithoutBoxes_Exits2_NamingTheSetting()
    {
        var (code, _, error) = await CliRunner.RunAsync("serve", "--api-key-file", KeyFile(), "--jobs-dir", Path.Combine(_folder, "jobs"));
        Assert.Equal(2, code);
        Assert.Contains("Fleet:Boxes: no boxes configured (e.g. Fleet:Boxes:0:Url, or MIAOYA_Fleet__Boxes__0__Url)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_NoAuthOnAllInterfaces_Exits2()
    {
        var (code, _, error) = await CliRunner.RunAsync("serve", "--no-auth", "--urls", "http://0.0.0.0:5080", "--webui", "http://127.0.0.1:7860", "--jobs-dir", Path.Combine(_folder, "jobs"));
        Assert.Equal(2, code);
        Assert.Contains("--no-auth: only on loopback addresses", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_BadOptions_Exit2()
    {
        var (code, _, error) = await CliRunner.RunAsync("serve", "--api-key-file", Path.Combine(_folder, "missing.key"), "--webui", "http://127.0.0.1:7860");
        Assert.Equal(2, code);
        Assert.Contains("missing.key: no such file", error, StringComparison.Ordinal);

        (code, _, error) = await CliRunner.RunAsync("serve", "--api-key-file", KeyFile(), "--webui", "gpu-1:7860");
        Assert.Equal(2, code);
        Assert.Contains("--webui: 'gpu-1:7860' is not an http:// or https:// URL.", error, StringComparison.Ordinal);

        (code, _, error) = await CliRunner.RunAsync("serve", "--api-key-file", KeyFile(), "--webui", "http://127.0.0.1:7860", "--urls", "localhost:5080", "--jobs-dir", Path.Combine(_folder, "jobs"));
        Assert.Equal(2, code);
        Assert.Contains("--urls: 'localhost:5080' is not an http:// or https:// address.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_ObservabilityOptions_ReachTheServerOptions()
    {
        var parsed = CliApp.Create().Parse([
            "serve", "--api-key-file", KeyFile(), "--webui", "http://127.0.0.1:7860", "--metrics-port", "9464",
            "--otlp-endpoint", "http://collector:4317", "--log-format", "json"]);
        Assert.Empty(parsed.Errors);
        var options = ServeCommand.BuildOptions(parsed);
        Assert.Equal(9464, options.MetricsPort);
        Assert.Equal(new Uri("http://collector:4317"), options.OtlpEndpoint);
        Assert.True(options.Logging.Json);

        var plain = ServeCommand.BuildOptions(CliApp.Create().Parse(["serve", "--api-key-file", KeyFile(), "--webui", "http://127.0.0.1:7860"]));
        Assert.Null(plain.MetricsPort);
        Assert.False(plain.Logging.Json);
        Assert.NotEmpty(CliApp.Create().Parse(["serve", "--log-format", "xml"]).Errors);
    }

    [Fact]
    public async Task Serve_MetricsPortOfTheApi_Exits2()
    {
        var (code, _, error) = await CliRunner.RunAsync(
            "serve", "--api-key-file", KeyFile(), "--webui", "http://127.0.0.1:7860", "--urls", "http://127.0.0.1:5080", "--metrics-port", "5080", "--jobs-dir", Path.Combine(_folder, "jobs"));
        Assert.Equal(2, code);
        Assert.Contains("--metrics-port 5080: give a port from 1 to 65535 that the API does not listen on.", error, StringComparison.Ordinal);
    }

    private string KeyFile()
    {
        var path = Path.Combine(_folder, "api.key");
        File.WriteAllText(path, "0123456789abcdef0123456789abcdef\n");
        return path;
    }
}
