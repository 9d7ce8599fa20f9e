using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Miaoya.Cli.Conformance;
using Miaoya.MockWebUi.Recording;
using Miaoya.WebUi;

namespace Miaoya.Cli.Commands;

/// <summary>
/// <c>miaoya conformance --webui URL [--auth U:P] [--out DIR]</c>: a few cheap real calls through a recording proxy, each
/// answer checked against the rules the client relies on; <c>DIR/conformance.json</c>, <c>DIR/conformance.html</c> and the
/// recording in <c>DIR/recording/</c>. Exit 0: every check passed (skips allowed); 1: one failed; 2: bad input.
/// </summary>
internal static class ConformanceCommand
{
    /// <summary>The parts of DIR/recording a run replaces (only what the recorder writes).</summary>
    private static readonly string[] RecordingParts = ["mappings", "images"];

    public static Command Create()
    {
        var webui = CliOptions.WebUi("Base URL of the box to check (required, unless WebUi:BaseUrl is configured)");
        var auth = CliOptions.Auth();
        var output = new Option<DirectoryInfo?>("--out") { Description = "Folder for conformance.json, conformance.html and recording/ (default: ./conformance; its recording/ is replaced)", HelpName = "DIR" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every call" };
        var command = new Command("conformance", "Check a box against every rule the client relies on (probe, txt2img, ControlNet, tagger, rembg), and record the exchanges for a bug report.")
        {
            webui, auth, output, verbose,
        };
        command.Options.Add(CliOptions.AuthFile());
        command.Validators.Add(result =>
        {
            if (result.GetValue(webui) is null && !CliApp.Configuration.HasBaseUrl)
            {
                result.AddError("Option '--webui' is required: give the box's address, or set WebUi:BaseUrl (miaoya.json, appsettings.json or MIAOYA_WebUi__BaseUrl).");
            }
        });
        command.SetAction((result, cancellationToken) => WebUiSession.RunAsync(async () =>
        {
            var endpoint = CliOptions.Endpoint(result, result.GetValue(webui));
            var (url, urlAuth) = RecordingProxy.WithoutCredentials(endpoint.BaseUrl);
            var credentials = endpoint.Username is { } user ? $"{user}:{endpoint.Password}" : urlAuth;
            if (await ReachProblemAsync(url, credentials, cancellationToken) is { } problem)
            {
                await Console.Error.WriteLineAsync($"error: {problem}");
                return 2;
            }

            var folder = result.GetValue(output)?.FullName ?? Path.GetFullPath("conformance");
            var recording = Path.Combine(folder, "recording");
            foreach (var part in RecordingParts)
            {
                if (Directory.Exists(Path.Combine(recording, part)))
                {
                    Directory.Delete(Path.Combine(recording, part), recursive: true);
                }
            }

            var started = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            using var proxy = RecordingProxy.Start(new RecordingProxyOptions { Upstream = url, Directory = recording, Auth = credentials });
            using var session = new WebUiSession(new WebUiEndpoint(proxy.Url), result.GetValue(verbose));
            using var raw = new HttpClient { BaseAddress = proxy.Url, Timeout = TimeSpan.FromMinutes(10) };
            var run = new ConformanceRun(session.Client, raw);
            Console.WriteLine($"Checking {url} (every exchange recorded in {recording})");
            await run.RunAsync(cancellationToken);

            var report = new ConformanceReport
            {
                WebUi = url.ToString(),
                Backend = run.Capabilities?.Backend.DisplayName(),
                Version = run.Capabilities?.WebUiVersion,
                Started = started,
                Seconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
                Checks = run.Checks,
                Exchanges = proxy.Exchanges,
            };
            ConformanceFiles.Write(folder, report);
            foreach (var check in report.Checks)
            {
                var mark = check.Status switch { CheckStatus.Pass => "pass", CheckStatus.Fail => "FAIL", _ => "skip" };
                Console.WriteLine($"  {mark}  {check.Id,-24} {Limits.UserText.EscapeControl(check.Detail)}");
            }

            Console.WriteLine($"{(report.Result == "pass" ? "Conforms" : "Does not conform")}: {report.Checks.Count(c => c.Status == CheckStatus.Fail)} failed, "
                + $"{report.Checks.Count(c => c.Status == CheckStatus.Skip)} skipped of {report.Checks.Count}. Report: {Path.Combine(folder, "conformance.html")}");
            return report.Result == "pass" ? 0 : 1;
        }));
        return command;
    }

    /// <summary>Why the box cannot be checked at all (unreachable, refuses the credentials), or null.</summary>
    private static async Task<string?> ReachProblemAsync(Uri url, string? credentials, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url, "sdapi/v1/samplers"));
        if (credentials is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }

        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            return response.StatusCode == HttpStatusCode.Unauthorized
                ? $"{url} answers 401 Unauthorized: give the box's --api-auth credentials with --auth user:password (or --auth-file, {CliOptions.AuthVariable})."
                : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return $"cannot reach {url}: {e.GetBaseException().Message}";
        }
    }
}
