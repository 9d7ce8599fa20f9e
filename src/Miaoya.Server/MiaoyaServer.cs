using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Miaoya.Fleet;
using Miaoya.Hosting;
using Miaoya.Imaging;
using Miaoya.Jobs;
using Miaoya.Jobs.Scheduling;
using Miaoya.Pipeline;
using Miaoya.Runner;
using Miaoya.Runner.Engine;

namespace Miaoya.Server;

/// <summary>
/// <c>miaoya serve</c>: the HTTP API over the job store, with a <see cref="JobEngine"/> running the queued jobs on a
/// <see cref="WebUiFleet"/> as a hosted service (ASP.NET Core on the shared framework, generic host). Stopping it stops
/// the worker, which hands its running steps back to the store; another instance, or this one started again, runs them.
/// </summary>
public sealed class MiaoyaServer : IAsyncDisposable
{
    /// <summary>The rate-limiter policy of <c>POST /v1/jobs</c>.</summary>
    internal const string SubmissionLimiter = "submissions";

    private readonly WebApplication _app;
    private readonly IJobStore _store;
    private int _disposed;

    private MiaoyaServer(WebApplication app, IJobStore store, IReadOnlyList<Uri> urls, IReadOnlyList<Uri> metricsUrls)
    {
        _app = app;
        _store = store;
        Urls = urls;
        MetricsUrls = metricsUrls;
    }

    /// <summary>The addresses it listens on (with the actual port when port 0 was asked for).</summary>
    public IReadOnlyList<Uri> Urls { get; }

    /// <summary>The addresses of <see cref="ServerOptions.MetricsPort"/> (only <c>/metrics</c>, no key); empty without one.</summary>
    public IReadOnlyList<Uri> MetricsUrls { get; }

    /// <summary>Cancelled when the host stops, also on its own (a background service failed).</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    /// <summary>The services (tests reach the fleet and the store through them).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Opens the job store, builds the host and starts listening. <paramref name="configuration"/> is what every command
    /// reads (default: <see cref="MiaoyaConfiguration.Load"/> in the working folder): the <c>WebUi</c> and <c>Fleet</c>
    /// settings and <c>Logging</c>. A configuration that cannot work (a problem of the configuration, no API key, no box, an
    /// unusable store, an address in use) throws <see cref="ServerConfigurationException"/>.
    /// </summary>
    public static async Task<MiaoyaServer> StartAsync(ServerOptions options, MiaoyaConfiguration? configuration = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        configuration ??= MiaoyaConfiguration.Load();
        if (configuration.Problems.Count > 0)
        {
            // Every bad value of the WebUi and Fleet settings at once, each naming its file or variable, before anything binds them.
            throw new ServerConfigurationException(string.Join(Environment.NewLine, configuration.Problems));
        }

        ImageMemory.UseBoundedPool();
        var jobsDirectory = Path.GetFullPath(options.Runner.JobsDirectory);
        try
        {
            // Job folders hold people's photos: the jobs folder is private to this user when we create it.
            PrivateFiles.CreateDirectory(jobsDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServerConfigurationException($"--jobs-dir {jobsDirectory}: cannot create it ({e.Message}).", e);
        }

        var location = options.Store ?? Path.Combine(jobsDirectory, "jobs.db");
        IJobStore store;
        try
        {
            store = await JobStore.OpenAsync(location, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ServerConfigurationException($"--store {JobStore.Redact(location)}: cannot open the job store ({e.Message}).", e);
        }

        if (!options.NoWorker)
        {
            try
            {
                StepSchedulerFactory.ThrowIfAnotherRunner(location);
            }
            catch (InvalidOperationException e)
            {
                await store.DisposeAsync();
                throw new ServerConfigurationException($"--store {JobStore.Redact(location)}: {e.Message} (or --no-worker for an API-only instance).", e);
            }
        }

        try
        {
            // Submissions over HTTP never name a recipe file (only the built-in recipes and those of --recipes).
            var runner = options.Runner with { JobsDirectory = jobsDirectory, AllowRecipePaths = false };
            var app = Build(options with { Runner = runner }, store, location, configuration);
            SweepStaging(options, app.Services.GetRequiredService<ILogger<MiaoyaServer>>());
            try
            {
                // Before the listener opens: a job submitted from the first request on is scheduled with its rows.
                await app.Services.GetRequiredService<JobEngine>().AttachAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await app.DisposeAsync();
                throw new ServerConfigurationException($"--store {JobStore.Redact(location)}: cannot schedule steps there ({e.Message}).", e);
            }

            try
            {
                await app.StartAsync(cancellationToken);
                app.Services.GetRequiredService<StrongBox<bool>>().Value = true;
            }
            catch (OptionsValidationException e)
            {
                await app.DisposeAsync();
                throw new ServerConfigurationException(string.Join(Environment.NewLine, e.Failures), e);
            }
            catch (IOException e)
            {
                await app.DisposeAsync();
                throw new ServerConfigurationException($"--urls {string.Join(' ', options.Urls)}: {e.Message}", e);
            }

            var addresses = (app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
                .Select(a => new Uri(a.Replace("[::]", "localhost", StringComparison.Ordinal))).ToList();
            var metrics = addresses.Where(a => a.Port == options.MetricsPort).ToArray();
            return new MiaoyaServer(app, store, addresses.Except(metrics).ToArray(), metrics);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops listening, stops the worker (running steps are handed back) and waits for both.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _app.StopAsync(cancellationToken);
        await _app.Services.GetRequiredService<ServerState>().DrainAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _app.DisposeAsync();
        await _store.DisposeAsync();
    }

    private static WebApplication Build(ServerOptions options, IJobStore store, string storeLocation, MiaoyaConfiguration configuration)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = Directory.GetCurrentDirectory() });
        // The configuration of every command and nothing else: ASP.NET's own sources (appsettings.json, unprefixed
        // environment variables) would make serve read settings the other commands do not.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration.Root);
        builder.Services.AddMiaoyaDefaults(builder.Configuration, options.Logging);

        // One log line per job step, not per HTTP call to a box; the client logs one line per retry itself, so Polly's own
        // events (each with a stack trace) are off.
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // A failed start (an address in use) is reported by StartAsync as one clean message; the host's own error line
        // with its stack trace would come first.
        var started = new StrongBox<bool>();
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", level => started.Value && level >= LogLevel.Warning);

        // The CLI owns Ctrl+C and SIGTERM (it calls StopAsync); the host must not install its own console handlers.
        builder.Services.AddSingleton<IHostLifetime, CallerOwnedLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(35));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
        });
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
            // The web defaults read numbers from strings too; nothing here binds a JSON body (submissions are parsed by
            // SubmissionReader, which refuses "42"), and the OpenAPI document would otherwise say every number may be a string.
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        builder.Services.AddMiaoyaOpenApi();
        builder.Services.AddServerTelemetry(options);

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(started);
        builder.Services.AddSingleton(sp => new EventTokens(sp.GetRequiredService<TimeProvider>()));
        if (options.CorsOrigins.Count > 0)
        {
            // Browsers ask first (OPTIONS, without the key): the CORS middleware answers before the key is checked.
            builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy => (options.CorsOrigins.Contains("*") ? policy.AllowAnyOrigin() : policy.WithOrigins([.. options.CorsOrigins]))
                .WithMethods("GET", "POST", "DELETE")
                .WithHeaders(ApiKeyMiddleware.HeaderName, "Authorization", "Content-Type", "Last-Event-ID")
                .WithExposedHeaders("Location", "Retry-After")));
        }

        builder.Services.AddRateLimiter(o =>
        {
            o.AddConcurrencyLimiter(SubmissionLimiter, c =>
            {
                c.PermitLimit = options.MaxConcurrentSubmissions;
                c.QueueLimit = options.SubmissionQueueLimit;
                c.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
            o.OnRejected = (context, _) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "5";
                return new ValueTask(Problems.Field(
                    StatusCodes.Status503ServiceUnavailable, "body",
                    $"{options.SubmissionQueueLimit} submissions are already waiting; try again in a few seconds.").ExecuteAsync(context.HttpContext));
            };
        });
        builder.Services.AddWebUiFleet(fleet =>
        {
            foreach (var box in options.Boxes)
            {
                fleet.Boxes.Add(box);
            }

            options.ConfigureFleet?.Invoke(fleet);
        });
        builder.Services.AddPortraitPipeline();
        // Submissions are checked against the template's face and the boxes' LoRAs before anything is queued.
        builder.Services.AddMiaoyaJobRunner(store, storeLocation, options.Runner);

        builder.Services.AddSingleton(sp => new EtaEstimator(store, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new ServerState(
            options, store, sp.GetRequiredService<JobSubmitter>(), sp.GetRequiredService<JobEngine>(), sp.GetRequiredService<WebUiFleet>(),
            sp.GetRequiredService<EtaEstimator>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ServerState>>()));
        builder.Services.AddHostedService<FleetAndWorkerService>();
        builder.Services.AddHostedService<MemoryGiveBackService>();
        if (options.KeepJobs is { } keep)
        {
            builder.Services.AddSingleton(sp =>
            {
                var state = sp.GetRequiredService<ServerState>();
                return new JobRetention(store, keep, sp.GetRequiredService<TimeProvider>(), async (job, cancellationToken) =>
                {
                    state.Eta.Forget(job.Id);
                    try
                    {
                        await state.DeleteFolderAsync(job.OutputFolder, cancellationToken);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // The rows are gone: the orphan-folder sweep at the next start removes it.
                        state.Logger.LogWarning("Job {Job}: could not delete its folder {Folder}: {Error}", job.Id, job.OutputFolder, e.Message);
                    }
                });
            });
            builder.Services.AddHostedService<RetentionService>();
        }

        var app = builder.Build();
        try
        {
            // The fleet is built from the configuration now, so a box list that cannot work fails before listening.
            app.Services.GetRequiredService<WebUiFleet>();
        }
        catch (ArgumentException e)
        {
            throw new ServerConfigurationException(e.Message.Replace(" (Parameter 'options')", "", StringComparison.Ordinal), e);
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMetricsPort(options);
        if (options.CorsOrigins.Count > 0)
        {
            app.UseCors();
        }

        if (options.ApiKey is not null)
        {
            // Without a key (--no-auth, loopback only) there is nothing to check. (A null argument here also stopped the
            // server from starting: UseMiddleware matches its arguments to the constructor by their runtime types.)
            app.UseMiddleware<ApiKeyMiddleware>(ApiKeyMiddleware.Digest(options.ApiKey), app.Services.GetRequiredService<EventTokens>());
        }

        app.UseMetricsBehindKey(options);
        app.UseRouting();
        app.UseRateLimiter();
        app.MapApiReference();
        JobEndpoints.Map(app);
        RecipeEndpoints.Map(app);
        IdPhotoEndpoints.Map(app);
        EventTokens.Map(app);
        BrowserConsole.Map(app);
        app.Urls.Clear();
        foreach (var url in options.Urls.Concat(ServerTelemetry.MetricsUrls(options)))
        {
            app.Urls.Add(url);
        }

        return app;
    }

    private static void Validate(ServerOptions options)
    {
        foreach (var origin in options.CorsOrigins)
        {
            if (origin != "*" && (!Uri.TryCreate(origin, UriKind.Absolute, out var o) || (o.Scheme != Uri.UriSchemeHttp && o.Scheme != Uri.UriSchemeHttps) || o.PathAndQuery != "/" || origin.EndsWith('/')))
            {
                throw new ServerConfigurationException($"--cors-origin: '{origin}' is not an origin; give scheme://host[:port] with no path or trailing slash, e.g. https://console.example.com, or * for any.");
            }
        }

        if (options.Urls.Count == 0)
        {
            throw new ServerConfigurationException("--urls: give at least one address, e.g. http://127.0.0.1:5080.");
        }

        var loopbackOnly = true;
        foreach (var url in options.Urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ServerConfigurationException($"--urls: '{url}' is not an http:// or https:// address.");
            }

            loopbackOnly &= uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        }

        if (options.ApiKey is null && !options.AllowAnonymous)
        {
            throw new ServerConfigurationException("no API key: set MIAOYA_API_KEY or give --api-key-file FILE (or --no-auth, on a loopback address only).");
        }

        if (options.ApiKey is { Length: < 16 })
        {
            throw new ServerConfigurationException("the API key is shorter than 16 characters; use a long random one (e.g. openssl rand -hex 32).");
        }

        if (options.ApiKey is null && !loopbackOnly)
        {
            throw new ServerConfigurationException($"--no-auth: only on loopback addresses (127.0.0.1, [::1], localhost), not {string.Join(' ', options.Urls)}.");
        }

        if (options.MaxRequestBytes <= 0 || options.MaxImageBytes <= 0 || options.MaxImageSide <= 0 || options.Runner.Slots <= 0 || options.Runner.OwnershipCheckInterval <= TimeSpan.Zero
            || options.MaxConcurrentSubmissions <= 0 || options.SubmissionQueueLimit < 0)
        {
            throw new ServerConfigurationException("limits, slots and the ownership check interval must be positive.");
        }

        if (options.MetricsPort is { } metricsPort
            && (metricsPort is < 1 or > 65535 || options.Urls.Any(u => new Uri(u).Port == metricsPort)))
        {
            throw new ServerConfigurationException($"--metrics-port {metricsPort}: give a port from 1 to 65535 that the API does not listen on.");
        }

        if (options.OtlpEndpoint is { } otlp && (!otlp.IsAbsoluteUri || (otlp.Scheme != Uri.UriSchemeHttp && otlp.Scheme != Uri.UriSchemeHttps)))
        {
            throw new ServerConfigurationException($"--otlp-endpoint: '{otlp}' is not an http:// or https:// address.");
        }

        if (options.KeepJobs < JobRetention.MinimumKeep)
        {
            throw new ServerConfigurationException($"--keep-jobs: keep finished jobs at least {JobRetention.MinimumKeep.TotalHours:0}h, or 0 to keep every job.");
        }
    }

    /// <summary>
    /// Before listening: photos staged by a request of a process that died (kill -9, a crash) before the job's folder had
    /// them are deleted, so personal data does not outlive a crashed request.
    /// </summary>
    private static void SweepStaging(ServerOptions options, ILogger logger)
    {
        try
        {
            var removed = UploadStaging.Sweep(options.UploadDirectory);
            if (removed.Count > 0)
            {
                logger.LogInformation("Removed {Count} upload folders left by a stopped process", removed.Count);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not sweep the upload folder: {Error}", e.Message);
        }
    }

    /// <summary>Starts the fleet (probing every box) and then the job engine, without holding up the listener.</summary>
    private sealed class FleetAndWorkerService(WebUiFleet fleet, IServiceProvider services, ILogger<FleetAndWorkerService> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            try
            {
                await fleet.StartAsync(stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Stopped while probing (a probe cut short surfaces as a transport error).
                return;
            }

            var boxes = fleet.Status();
            logger.LogInformation("Fleet: {Boxes}", string.Join(", ", boxes.Select(b => $"{b.Name} {b.Health.ToString().ToLowerInvariant()}")));

            try
            {
                // Folders of jobs that were never created (a crash mid-submission) may hold a person's photos.
                var orphans = await services.GetRequiredService<JobSubmitter>().RemoveOrphanFoldersAsync(TimeSpan.FromMinutes(10), stoppingToken);
                if (orphans.Count > 0)
                {
                    logger.LogInformation("Removed {Count} job folders the store does not know: {Folders}", orphans.Count, string.Join(", ", orphans));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Could not sweep the jobs folder for orphans: {Error}", e.Message);
            }
            if (!services.GetRequiredService<ServerState>().Options.NoWorker)
            {
                var engine = services.GetRequiredService<JobEngine>();
                logger.LogInformation("Instance {Instance} runs up to {Slots} steps at once", engine.Name, services.GetRequiredService<JobRunnerOptions>().Slots);
                await engine.RunAsync(stoppingToken);
                logger.LogInformation("Instance {Instance} stopped; its running steps were handed back", engine.Name);
            }
        }
    }

    /// <summary>Deletes finished jobs older than <see cref="ServerOptions.KeepJobs"/>, with their folders: at start, then every <see cref="JobRetention.Interval"/>.</summary>
    private sealed class RetentionService(JobRetention retention, TimeProvider time, ILogger<RetentionService> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var deleted = await retention.PruneAsync(stoppingToken);
                    if (deleted.Count > 0)
                    {
                        logger.LogInformation("Deleted {Count} jobs that finished more than {Keep} ago, with their folders", deleted.Count, retention.Keep);
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException or TimeoutException)
                {
                    // The store is briefly unavailable: try again at the next round.
                    logger.LogWarning("Could not delete old jobs: {Error}", e.Message);
                }

                try
                {
                    await Task.Delay(JobRetention.Interval, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>After a burst of uploads or steps, once images have not been decoded for 5 s, gives their memory back.</summary>
    private sealed class MemoryGiveBackService : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
            ImageMemory.GiveBackWhenIdleAsync(DecodeBudget.Activity, TimeSpan.FromSeconds(5), stoppingToken);
    }

    /// <summary>A host lifetime that leaves starting and stopping to the caller (no console signal handlers).</summary>
    private sealed class CallerOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
