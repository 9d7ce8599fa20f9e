using Miaoya.Fleet;
using Miaoya.Limits;

namespace Miaoya.Server;

/// <summary>What <c>miaoya serve</c> runs with: where it listens, where jobs live, the API key and the request limits.</summary>
public sealed record ServerOptions
{
    /// <summary>Addresses to listen on (Kestrel URLs); port 0 picks a free port (tests).</summary>
    public IReadOnlyList<string> Urls { get; init; } = ["http://127.0.0.1:5080"];

    /// <summary>The job store: a SQLite file path, or a PostgreSQL connection string (<c>Host=...</c>); null: <c>&lt;JobsDirectory&gt;/jobs.db</c>.</summary>
    public string? Store { get; init; }

    /// <summary>Each job's folder (its inputs and outputs) is <c>&lt;JobsDirectory&gt;/&lt;job id&gt;</c>.</summary>
    public required string JobsDirectory { get; init; }

    /// <summary>Where uploaded photos wait (each request in a private folder, deleted once the job's folder has its copy); null: the system's temporary folder.</summary>
    public string? UploadDirectory { get; init; }

    /// <summary>Recipe files that submissions may name besides the built-in ones.</summary>
    public string? RecipeDirectory { get; init; }

    /// <summary>V3: insightface's model folder, and the device its ONNX sessions run on.</summary>
    public string? ModelsDirectory { get; init; }

    public string Device { get; init; } = "cpu";

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

    /// <summary>The console logging the CLI sets up (escaped user text, no stack traces unless verbose); null: ASP.NET's default.</summary>
    public Action<Microsoft.Extensions.Logging.ILoggingBuilder>? ConfigureLogging { get; init; }

    /// <summary>Steps one worker runs at once.</summary>
    public int Slots { get; init; } = 8;

    /// <summary>How long a claimed step stays this instance's without a heartbeat.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle worker slot and a server-sent-event stream look at the store.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Do not run a job worker in this process (an API-only instance in front of a shared PostgreSQL queue).</summary>
    public bool NoWorker { get; init; }
}

/// <summary>A configuration that cannot work (no box, no key, bad URL): the CLI exits 2 with <see cref="Exception.Message"/>.</summary>
public sealed class ServerConfigurationException : Exception
{
    public ServerConfigurationException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
