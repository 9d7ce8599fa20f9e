using System.CommandLine;
using Microsoft.Extensions.Logging;
using Miaoya.Fleet;
using Miaoya.Hosting;
using Miaoya.Runner;
using Miaoya.Server;
using OpenTelemetry.Exporter;

namespace Miaoya.Cli.Commands;

/// <summary><c>miaoya serve</c>: the HTTP job API with a worker running the jobs on the configured WebUI boxes, until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    /// <summary>The environment variable holding the API key (or give <c>--api-key-file</c>).</summary>
    public const string ApiKeyVariable = "MIAOYA_API_KEY";

    /// <summary>OpenTelemetry's standard variable for the collector's address (used when <c>--otlp-endpoint</c> is not given).</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>OpenTelemetry's standard variable for the OTLP transport: <c>grpc</c> (default) or <c>http/protobuf</c>.</summary>
    public const string OtlpProtocolVariable = "OTEL_EXPORTER_OTLP_PROTOCOL";

    public static Command Create()
    {
        var urls = new Option<string[]>("--urls")
        {
            Description = "Addresses to listen on (repeatable, or ';'-separated)",
            HelpName = "URL",
            DefaultValueFactory = _ => ["http://127.0.0.1:5080"],
        };
        var store = new Option<string?>("--store") { Description = "Job store: a SQLite file (default: JOBS_DIR/jobs.db) or a PostgreSQL connection string \"Host=...;Username=...;Password=...;Database=...\"", HelpName = "PATH|\"Host=...\"" };
        var jobsDir = new Option<DirectoryInfo>("--jobs-dir") { Description = "Folder of the jobs' folders (inputs and outputs)", DefaultValueFactory = _ => new DirectoryInfo("jobs") };
        var webuis = CliOptions.WebUis("A WebUI box (repeatable); added to those of the Fleet configuration (Fleet:Boxes in miaoya.json, MIAOYA_Fleet__Boxes__0__Url, ...); with neither, the configuration's WebUi:BaseUrl");
        var auth = CliOptions.Auth();
        auth.Description = "Credentials (user:password) for the --webui boxes (the WebUI's --api-auth)";
        var recipes = new Option<DirectoryInfo?>("--recipes") { Description = "Folder of recipe files submissions may name (besides the built-in ones)" };
        var templates = TemplateCli.LibraryOption();
        templates.Description = $"The template library submissions name with template_name ({TemplateCli.LibraryDefault})";
        var apiKeyFile = new Option<FileInfo?>("--api-key-file") { Description = $"File holding the API key (default: the {ApiKeyVariable} environment variable)" };
        var noAuth = new Option<bool>("--no-auth") { Description = "Serve without an API key (only on loopback addresses)" };
        var models = new Option<DirectoryInfo?>("--models") { Description = "Folder with the face models: V3's insightface det_10g.onnx, w600k_r50.onnx, inswapper_128.onnx; candidates' face_recognition_sface_2021dec.onnx" };
        var device = new Option<string>("--device") { Description = "V3: ONNX device, cpu or cuda[:N]", DefaultValueFactory = _ => "cpu" };
        var slots = new Option<int>("--slots") { Description = "Steps run at once by this instance", DefaultValueFactory = _ => 8 };
        slots.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 256)
            {
                r.AddError("--slots: must be between 1 and 256.");
            }
        });
        var noWorker = new Option<bool>("--no-worker") { Description = "Only the API: run no jobs in this process (another instance on the same PostgreSQL store runs them)" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log debug lines and the stack traces of failures" };
        var keepJobs = CliOptions.KeepJobsOption();
        var metricsPort = new Option<int?>("--metrics-port") { Description = "Serve /metrics (Prometheus) alone on this port, without the API key, for a scraper on a private network (default: /metrics on the API's addresses, behind the key)", HelpName = "PORT" };
        var otlp = new Option<string?>("--otlp-endpoint") { Description = $"Send traces to this OpenTelemetry collector (default: the {OtlpEndpointVariable} variable; {OtlpProtocolVariable}=http/protobuf for OTLP over HTTP)", HelpName = "URL" };
        var logFormat = new Option<string>("--log-format") { Description = "Console log lines as text or json (one JSON object per line, with trace ids)", DefaultValueFactory = _ => "text" };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var cors = new Option<string[]>("--cors-origin") { Description = "An origin (scheme://host[:port]) whose web pages may call the API from a browser (CORS; repeatable; * for any). Their EventSource gets a short-lived token from POST /v1/event-tokens", HelpName = "ORIGIN" };

        var command = new Command("serve", "Run the HTTP job API (POST /v1/jobs, events, outputs, /v1/backends) and a worker on the WebUI boxes until Ctrl+C or SIGTERM.")
        {
            urls, store, jobsDir, webuis, auth, recipes, templates, apiKeyFile, noAuth, models, device, slots, noWorker, keepJobs, metricsPort, otlp, logFormat, cors, verbose,
        };
        command.Options.Add(CliOptions.AuthFile());
        command.SetAction(async (result, cancellationToken) =>
        {
            ServerOptions options;
            try
            {
                options = BuildOptions(result);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"serve: {e.Message}");
                return 2;
            }

            MiaoyaServer server;
            try
            {
                server = await MiaoyaServer.StartAsync(options, CliApp.Configuration, cancellationToken);
            }
            catch (ServerConfigurationException e)
            {
                await Console.Error.WriteLineAsync($"serve: {e.Message}");
                return 2;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 130;
            }

            await using (server)
            {
                Console.WriteLine($"Miaoya service listening on {string.Join(", ", server.Urls)} (jobs in {options.Runner.JobsDirectory})");
                Console.WriteLine($"  try: curl {server.Urls[0]}healthz");
                Console.WriteLine($"  console: {server.Urls[0]} (in a browser; it asks for the API key), API reference: {server.Urls[0]}docs");
                if (server.MetricsUrls.Count > 0)
                {
                    Console.WriteLine($"  metrics (no key): {string.Join(", ", server.MetricsUrls.Select(u => new Uri(u, "metrics")))}");
                }

                Console.WriteLine("Press Ctrl+C to stop (running steps are handed back and run again at the next start).");
                using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, server.Stopping);
                try
                {
                    await Task.Delay(Timeout.Infinite, either.Token);
                }
                catch (OperationCanceledException)
                {
                }

                Console.WriteLine("Stopping...");
                await server.StopAsync(CancellationToken.None);
                if (!cancellationToken.IsCancellationRequested)
                {
                    // The host stopped on its own: the worker or the fleet failed (logged above).
                    await Console.Error.WriteLineAsync("serve: stopped after an internal failure (see the log above).");
                    return 1;
                }

                Console.WriteLine("Stopped.");
            }

            return 0;
        });
        return command;
    }

    /// <summary>The server's options from a parsed <c>serve</c> command line and the configuration; a bad key file throws <see cref="ArgumentException"/>.</summary>
    internal static ServerOptions BuildOptions(ParseResult result)
    {
        var key = ReadKey(result.GetValue<FileInfo?>("--api-key-file"));
        var verbose = result.GetValue<bool>("--verbose");
        return new ServerOptions
        {
            Urls = (result.GetValue<string[]>("--urls") ?? []).SelectMany(u => u.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
            Store = result.GetValue<string?>("--store"),
            Runner = new JobRunnerOptions
            {
                JobsDirectory = result.GetValue<DirectoryInfo>("--jobs-dir")!.FullName,
                RecipeDirectory = result.GetValue<DirectoryInfo?>("--recipes")?.FullName,
                ModelsDirectory = result.GetValue<DirectoryInfo?>("--models")?.FullName,
                Device = result.GetValue<string>("--device")!,
                Slots = result.GetValue<int>("--slots"),
            },
            ApiKey = key,
            AllowAnonymous = result.GetValue<bool>("--no-auth"),
            NoWorker = result.GetValue<bool>("--no-worker"),
            KeepJobs = CliOptions.KeepJobs(result),
            Boxes = Boxes(result),
            Logging = MiaoyaLogging.For(verbose, LogLevel.Information) with { Json = result.GetValue<string>("--log-format") == "json" },
            MetricsPort = result.GetValue<int?>("--metrics-port"),
            CorsOrigins = result.GetValue<string[]>("--cors-origin") ?? [],
            TemplatesDirectory = TemplateCli.Library(result.GetValue<DirectoryInfo?>("--templates")).Directory,
            OtlpEndpoint = Otlp(result.GetValue<string?>("--otlp-endpoint"), "--otlp-endpoint") ?? Otlp(Environment.GetEnvironmentVariable(OtlpEndpointVariable), OtlpEndpointVariable),
            OtlpProtocol = Environment.GetEnvironmentVariable(OtlpProtocolVariable)?.Trim() switch
            {
                null or "" or "grpc" => OtlpExportProtocol.Grpc,
                "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
                var other => throw new ArgumentException($"{OtlpProtocolVariable}={other}: use grpc or http/protobuf."),
            },
        };
    }

    /// <summary>A collector's address from <paramref name="source"/> (the option or the variable); null when not given.</summary>
    private static Uri? Otlp(string? text, string source)
    {
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new ArgumentException($"{source}: '{text}' is not an http:// or https:// address.");
    }

    /// <summary>
    /// The <c>--webui</c> boxes (added to the configuration's <c>Fleet:Boxes</c>), with the command's credentials; with
    /// neither, the configuration's <c>WebUi:BaseUrl</c> box; with none of the three, none (and serve says so).
    /// </summary>
    private static BoxOptions[] Boxes(ParseResult result)
    {
        var configuration = CliApp.Configuration;
        var given = result.GetValue<Uri[]>("--webui") ?? [];
        Uri?[] urls = given.Length > 0 ? [.. given] : configuration.FleetBoxes().Count == 0 && configuration.HasBaseUrl ? [null] : [];
        return urls.Select(u => CliOptions.Endpoint(result, u))
            .Select(e => new BoxOptions { Url = e.BaseUrl, Username = e.Username, Password = e.Password })
            .ToArray();
    }

    private static string? ReadKey(FileInfo? file)
    {
        if (file is not null)
        {
            if (!file.Exists)
            {
                throw new ArgumentException($"--api-key-file {file.FullName}: no such file.");
            }

            string text;
            try
            {
                text = Limits.BoundedFile.ReadAllText(file.FullName, 4096, "API key file").Trim();
            }
            catch (IOException e)
            {
                throw new ArgumentException($"--api-key-file: {e.Message}", e);
            }

            return text.Length > 0 ? text : throw new ArgumentException($"--api-key-file {file.FullName}: the file is empty.");
        }

        return Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key.Trim() : null;
    }
}
