using System.CommandLine;
using Miaoya.MockWebUi.Recording;

namespace Miaoya.Cli.Commands;

/// <summary><c>miaoya mock-webui --record-from URL --record-dir DIR</c> and <c>--replay DIR</c>: record a real box, serve a recording.</summary>
internal static class MockWebUiRecording
{
    public static Option<Uri?> RecordFrom() => new("--record-from")
    {
        Description = "Record a real box: forward every request to this URL (its --auth, or the client's own Authorization) and save each exchange into --record-dir, credentials left out",
        HelpName = "URL",
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                return uri;
            }

            result.AddError($"--record-from: '{text}' is not an http:// or https:// URL.");
            return null;
        },
    };

    public static Option<DirectoryInfo?> RecordDir() => new("--record-dir") { Description = "Where --record-from saves the recording: mappings/ (WireMock mappings) and images/", HelpName = "DIR" };

    public static Option<DirectoryInfo?> Replay() => new("--replay") { Description = "Serve a recording made with --record-from instead of the mock's own answers", HelpName = "DIR" };

    /// <summary>Parse-time rules: one of --profile, --record-from and --replay; --record-dir with --record-from only; the recording exists.</summary>
    public static void Validate(System.CommandLine.Parsing.CommandResult result, Option<Uri?> recordFrom, Option<DirectoryInfo?> recordDir, Option<DirectoryInfo?> replay, Option<Miaoya.MockWebUi.MockWebUiProfile> profile)
    {
        var chosen = new List<string>();
        if (result.GetResult(profile) is { Implicit: false })
        {
            chosen.Add("--profile");
        }

        if (result.GetResult(recordFrom) is not null)
        {
            chosen.Add("--record-from");
        }

        if (result.GetResult(replay) is not null)
        {
            chosen.Add("--replay");
        }

        if (chosen.Count > 1)
        {
            result.AddError($"{string.Join(" and ", chosen)} cannot be combined: the mock imitates a profile, records a real box (--record-from), or serves a recording (--replay), one at a time.");
        }

        if (result.GetResult(recordFrom) is not null && result.GetResult(recordDir) is null)
        {
            result.AddError("--record-from needs --record-dir DIR: the folder the recording is saved to.");
        }

        if (result.GetResult(recordDir) is not null && result.GetResult(recordFrom) is null)
        {
            result.AddError("--record-dir is only for --record-from URL.");
        }

        if (result.GetValue(replay) is { } folder && !Directory.Exists(Path.Combine(folder.FullName, "mappings")))
        {
            result.AddError($"--replay: {folder.FullName} is not a recording (no mappings/ folder); make one with --record-from URL --record-dir DIR.");
        }
    }

    /// <summary>Records until Ctrl+C.</summary>
    public static async Task<int> RecordAsync(Uri upstream, string directory, string? auth, int port, bool listen, CancellationToken cancellationToken)
    {
        RecordingProxy proxy;
        try
        {
            proxy = RecordingProxy.Start(new RecordingProxyOptions { Upstream = upstream, Directory = directory, Auth = auth, Port = port, ListenOnAllInterfaces = listen });
        }
        catch (Exception e) when (e is WireMock.Exceptions.WireMockException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"mock-webui: cannot start the recording proxy: {e.GetBaseException().Message}");
            return 2;
        }

        using var owned = proxy;
        Console.WriteLine($"Recording {proxy.BaseUrlForDisplay} through {proxy.Url}");
        Console.WriteLine($"  point the client at {proxy.Url}; exchanges are saved to {proxy.Directory}");
        Console.WriteLine("Press Ctrl+C to stop.");
        await WaitAsync(cancellationToken);
        Console.WriteLine($"Stopped; {proxy.Exchanges} exchange(s) recorded in {proxy.Directory}. Serve them with: miaoya mock-webui --replay {proxy.Directory}");
        return 0;
    }

    /// <summary>Replays until Ctrl+C.</summary>
    public static async Task<int> ReplayAsync(string directory, int port, bool listen, CancellationToken cancellationToken)
    {
        ReplayServer server;
        try
        {
            server = ReplayServer.Start(directory, port, listen);
        }
        catch (Exception e) when (e is WireMock.Exceptions.WireMockException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"mock-webui: --replay {directory}: {e.GetBaseException().Message}");
            return 2;
        }

        using var owned = server;
        Console.WriteLine($"Replaying {server.ExchangeCount} recorded exchange(s) from {directory} on {server.Url}");
        Console.WriteLine("  a request never recorded is answered 404, naming the closest recorded request");
        Console.WriteLine("Press Ctrl+C to stop.");
        await WaitAsync(cancellationToken);
        Console.WriteLine($"Stopped; {server.Misses} request(s) had no recorded answer.");
        return 0;
    }

    private static async Task WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C
        }
    }
}
