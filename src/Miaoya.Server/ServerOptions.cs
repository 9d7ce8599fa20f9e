using Miaoya.Fleet;
using Miaoya.Hosting;
using Miaoya.Limits;
using Miaoya.Runner;

namespace Miaoya.Server;

/// <summary>What <c>miaoya serve</c> runs with: where it listens, where jobs live, the API key and the request limits.</summary>
public sealed record ServerOptions
{
    /// <summary>Addresses to listen on (Kestrel URLs); port 0 picks a free port (tests).</summary>
    public IReadOnlyList<string> Urls { get; init; } = ["http://127.0.0.1:5080"];

    /// <summary>The job store: a SQLite file path, or a PostgreSQL connection string (<c>Host=...</c>); null: <c>&lt;JobsDirectory&gt;/jobs.db</c>.</summary>
    public string? Store { get; init; }

    /// <summary>
    /// Where jobs live and how this instance's worker runs them: each job's folder is <c>&lt;JobsDirectory&gt;/&lt;job id&gt;</c>;
    /// recipe files submissions may name besides the built-in ones (<c>RecipeDirectory</c>); V3's model folder and device;
    /// steps at once (the scheduler's threads), how often a running step checks it is still its own, and how often an event stream looks at the store.
    /// Submissions never name a recipe by its path (<c>AllowRecipePaths</c> is ignored).
    /// </summary>
    public required JobRunnerOptions Runner { get; init; }

    /// <summary>Where uploaded photos wait (each request in a private folder, deleted once the job's folder has its copy); null: the system's temporary folder.</summary>
    public string? UploadDirectory { get; init; }

    /// <summary>The key every request but <c>/healthz</c> must carry (X-Api-Key or Authorization: Bearer); null only with <see cref="AllowAnonymous"/>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Serve without an API key (refused unless every URL is a loopback address).</summary>
    public bool AllowAnonymous { get; init; }

    /// <summary>WebUI boxes added to those of the <c>Fleet</c> configuration section (<c>--webui URL</c>).</summary>
    public IReadOnlyList<BoxOptions> Boxes { get; init; } = [];

    /// <summary>Changes applied to the fleet after configuration (tests: a short health interval).</summary>
    public Action<FleetOptions>? ConfigureFleet { get; init; }

    /// <summary>Largest request body (a whole multipart submission).</summary>
    public long MaxRequestBytes { get; init; } = InputLimits.Images.MaxRequestBytes;

    /// <summary>Largest single uploaded image.</summary>
    public long MaxImageBytes { get; init; } = InputLimits.Images.MaxUploadBytes;

    /// <summary>Largest width or height of an uploaded image (the pipeline's own limit by default).</summary>
    public int MaxImageSide { get; init; } = InputLimits.Images.MaxTemplateSide;

    /// <summary>
    /// Submissions read and checked at once; later ones wait in line (<see cref="SubmissionQueueLimit"/>), so the memory
    /// their bodies and pixels take is bounded however many arrive together.
    /// </summary>
    public int MaxConcurrentSubmissions { get; init; } = 4;

    /// <summary>Submissions waiting for their turn; beyond this a submission is answered 503 with Retry-After.</summary>
    public int SubmissionQueueLimit { get; init; } = 256;

    /// <summary>The console log (one line per event, escaped user text, stack traces only when verbose), as every command's.</summary>
    public MiaoyaLogging Logging { get; init; } = new(Microsoft.Extensions.Logging.LogLevel.Information);

    /// <summary>
    /// A port on which <c>/metrics</c> is served alone and without the API key (for a scraper on a private network), on
    /// each host of <see cref="Urls"/>; the API's addresses then do not serve <c>/metrics</c>. Null: <c>/metrics</c> is
    /// served on the API's addresses, behind the key.
    /// </summary>
    public int? MetricsPort { get; init; }

    /// <summary>An OpenTelemetry collector that receives the traces (jobs, steps, box calls, API requests); null: no traces are kept.</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>How traces reach <see cref="OtlpEndpoint"/>: gRPC (the default, usually port 4317) or HTTP/protobuf (usually 4318).</summary>
    public OpenTelemetry.Exporter.OtlpExportProtocol OtlpProtocol { get; init; } = OpenTelemetry.Exporter.OtlpExportProtocol.Grpc;

    /// <summary>
    /// Origins (scheme://host[:port]) whose pages may call the API from a browser (CORS): their preflight requests are
    /// answered and the API's responses carry Access-Control-Allow-Origin for them. Empty: no cross-origin access.
    /// </summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>Do not run a job worker in this process (an API-only instance in front of a shared PostgreSQL queue).</summary>
    public bool NoWorker { get; init; }

    /// <summary>
    /// How long finished jobs (and their folders) are kept: pruned at start and every <see cref="JobRetention.Interval"/>
    /// (<see cref="JobRetention"/>); null: keep every job. At least <see cref="JobRetention.MinimumKeep"/>.
    /// </summary>
    public TimeSpan? KeepJobs { get; init; } = JobRetention.DefaultKeep;

    /// <summary>The template library a submission's <c>template_name</c> is looked up in; null: submissions must upload their template.</summary>
    public string? TemplatesDirectory { get; init; }
}

/// <summary>A configuration that cannot work (no box, no key, bad URL): the CLI exits 2 with <see cref="Exception.Message"/>.</summary>
public sealed class ServerConfigurationException : Exception
{
    public ServerConfigurationException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
