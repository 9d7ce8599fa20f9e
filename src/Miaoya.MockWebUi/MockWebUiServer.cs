using System.Globalization;
using System.Text;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using WireMock.Types;
using WireMock.Util;

namespace Miaoya.MockWebUi;

/// <summary>A WireMock-based imitation of an AUTOMATIC1111 WebUI API server with its ControlNet, WD14 tagger and rembg extensions.</summary>
/// <remarks>
/// WireMock hands every request but its own admin API to one callback: the <see cref="RequestPipeline"/> (down box,
/// faults) and then the <see cref="RouteTable"/>, which the route groups in Routes/ fill. What outlives a request lives in
/// explicit state objects (State/): <see cref="MockState"/>, <see cref="JobQueue"/>, <see cref="FaultInjector"/>,
/// <see cref="RenderCounter"/>.
/// </remarks>
public sealed class MockWebUiServer : IDisposable
{
    private readonly MockWebUiOptions _options;
    private readonly ProfileTraits _traits;
    private readonly MockState _state;
    private readonly ControlRunLog _controlRuns = new();
    private readonly ConsoleLog _console = new();
    private readonly RenderCounter _renders = new();
    private readonly FaultInjector _faults;
    private readonly JobQueue _jobs;
    private readonly ConnectionDropper _connections = new();
    private readonly RequestPipeline _pipeline;
    private long _requestCount;
    private bool _disposed;

    private MockWebUiServer(MockWebUiOptions options)
    {
        _options = options;
        Profile = options.Profile;
        _traits = ProfileTraits.For(options.Profile);
        if (options.ControlNetUnitCount is < 1 or > 10)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ControlNetUnitCount, "ControlNetUnitCount must be between 1 and 10 (control_net_unit_count's slider).");
        }

        _state = new MockState(_traits, options.ControlNetUnitCount);
        var random = new MockRandom(options.Seed);
        _faults = new FaultInjector(random);
        _jobs = new JobQueue(options, _state, random, _renders);
        var auth = BasicAuth.Parse(options.Auth);
        var host = options.ListenOnAllInterfaces ? "0.0.0.0" : "127.0.0.1";
        WireMock = WireMockServer.Start(new WireMockServerSettings
        {
            Urls = [string.Create(CultureInfo.InvariantCulture, $"http://{host}:{options.Port}")],
            StartAdminInterface = true,
            // The admin API lists every request with its Authorization header: behind the same credentials as the API.
            AdminUsername = auth.First?.User,
            AdminPassword = auth.First?.Password,
            DisableJsonBodyParsing = true, // bodies stay strings; parsed once with System.Text.Json
            DoNotSaveDynamicResponseInLogEntry = true,
            MaxRequestLogCount = 200,
            PreWireMockMiddlewareInit = _connections.Track,
        });
        var port = WireMock.Ports[0];
        _pipeline = new RequestPipeline(_state, _faults, BuildRoutes(options, auth, random, port), _traits.Errors);
        WireMock
            .Given(Request.Create().WithPath(new RegexMatcher(MatchBehaviour.RejectOnMatch, "^/__admin")).UsingAnyMethod())
            .AtPriority(int.MaxValue / 2)
            .RespondWith(Response.Create().WithCallback(RespondAsync));
        Url = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
    }

    /// <summary>Base address, e.g. http://127.0.0.1:45678/.</summary>
    public Uri Url { get; }

    /// <summary>The underlying WireMock server (LogEntries; admin interface at /__admin/requests).</summary>
    public WireMockServer WireMock { get; }

    /// <summary>The imitated server generation.</summary>
    public MockWebUiProfile Profile { get; }

    /// <summary>
    /// The control mode each ControlNet unit of the last rendered txt2img/img2img ran as ("Balanced", …), which the response
    /// does not show: on Forge an int control_mode, and on reForge any control_mode, weighs as Balanced.
    /// </summary>
    public IReadOnlyList<string> LastControlModes => _controlRuns.Last;

    /// <summary>
    /// What the box printed to its console and did not answer with, oldest first (the last 200): e.g. an exception in
    /// ControlNet's <c>process</c> callback, which A1111 reports as "*** Error running process: …/controlnet.py" and then
    /// renders without ControlNet (a missing face for an identity unit, an SD-version mismatch, InstantID's unit order).
    /// <c>GET /__mock/console</c> serves the same.
    /// </summary>
    public IReadOnlyList<string> ConsoleErrors => _console.Errors;

    /// <summary>Requests answered so far (any route but WireMock's admin API).</summary>
    public long RequestCount => Interlocked.Read(ref _requestCount);

    /// <summary>Number of POST /sdapi/v1/interrupt calls received.</summary>
    public int InterruptCount => _jobs.InterruptCount;

    /// <summary>Title of the checkpoint the mock has loaded (what renders), which <c>GET /options</c> may not name.</summary>
    public string LoadedCheckpoint => _state.LoadedCheckpoint;

    /// <summary>How many times a different checkpoint was loaded (per request, by a switch back, or by <c>POST /options</c>).</summary>
    public int ModelSwitches => _state.ModelSwitches;

    /// <summary>True while a generation-type call runs (what <c>GET /sdapi/v1/progress</c> reports as <c>job_count</c> 1).</summary>
    public bool JobRunning => _jobs.Running;

    /// <summary>True between <see cref="GoDown"/> and <see cref="ComeBack"/>.</summary>
    public bool IsDown => _state.IsDown;

    /// <summary>
    /// Generation-type calls at the box now, at most at once, started, and started while another was at the box, counted
    /// from a call's arrival (waiting for the queue included) until its answer; <c>GET /__mock/renders</c> serves the same.
    /// Renders themselves never overlap: the mock, like A1111's queue lock, runs one at a time, so what a client's
    /// concurrency limit must prevent shows as <see cref="MockRenderCounts.OverlappingStarts"/>.
    /// </summary>
    public MockRenderCounts RenderCounts => _renders.Snapshot();

    /// <summary>Starts a mock on loopback (or all interfaces) with the given options.</summary>
    public static MockWebUiServer Start(MockWebUiOptions? options = null) => new(options ?? new MockWebUiOptions());

    /// <summary>Adds a per-path fault; faults are checked in the order added.</summary>
    public void AddFault(MockFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        _faults.Add(fault);
    }

    /// <summary>Removes every fault.</summary>
    public void ClearFaults() => _faults.Clear();

    /// <summary>
    /// The box dies: from now on every connection is closed without an answer, including the calls in flight (their
    /// render stops and the connection drops mid-call), until <see cref="ComeBack"/>.
    /// </summary>
    public void GoDown()
    {
        _state.GoDown();
        _jobs.StopRender(); // ends the render in flight early; not an interrupt request (InterruptCount stays)
    }

    /// <summary>The box answers again (as after a restart the models and options are kept: the mock has no disk).</summary>
    public void ComeBack() => _state.ComeBack();

    /// <summary>Counts <see cref="RenderCounts"/> afresh (as <c>DELETE /__mock/renders</c>); calls in flight stay counted in flight.</summary>
    public void ResetRenderCounts() => _renders.Reset();

    /// <summary>Generation-type calls (<c>txt2img</c>, <c>img2img</c>, <c>interrogate</c>, <c>detect</c>, <c>rembg</c>) that ran to the end.</summary>
    public int CompletedJobs(string name) => _jobs.Completed(name);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        WireMock.Stop();
        WireMock.Dispose();
        _jobs.Dispose();
    }

    /// <summary>Every route of the profile, each group given what it needs.</summary>
    private RouteTable BuildRoutes(MockWebUiOptions options, BasicAuth auth, MockRandom random, int port)
    {
        var lacking = new Lacking(options.Without);
        var routes = new RouteTable(auth, lacking);
        var controlNet = new ControlNetBox(options.ControlNetUnitCount, lacking);
        var renderer = new GenerationRenderer(options, _state, _jobs, random, _traits, _controlRuns, controlNet, _console);
        new GenerationRoutes(options, _state, _jobs, renderer, _traits, controlNet).AddTo(routes);
        new OptionsRoutes(options, _state, auth, port, _traits).AddTo(routes);
        new CatalogueRoutes(lacking, new LoraFolder(options), _traits, controlNet).AddTo(routes);
        PngInfoRoutes.AddTo(routes);
        new TaggerRoutes(_jobs, _traits).AddTo(routes);
        if (_traits.Family == ServerFamily.SdNext)
        {
            new SdNextRoutes(_state, _jobs, random).AddTo(routes);
        }

        if (_traits.HasControlNet)
        {
            new ControlNetRoutes(_state, _jobs, lacking, _traits, controlNet).AddTo(routes); // SD.Next: no /controlnet/* (404)
        }

        new RembgRoutes(_state, _jobs).AddTo(routes);
        new ExtrasRoutes(_state, _jobs, lacking).AddTo(routes);
        new MockControlRoutes(_renders, _console).AddTo(routes);
        return routes;
    }

    private async Task<IResponseMessage> RespondAsync(IRequestMessage request)
    {
        Interlocked.Increment(ref _requestCount);
        PruneRequestLog();
        var result = await _pipeline.HandleAsync(MockRequest.From(request), _connections.DropCurrent);
        var message = new ResponseMessage
        {
            StatusCode = result.Status,
            BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = result.Body, Encoding = Encoding.UTF8 },
        };
        message.AddHeader("Content-Type", "application/json");
        return message;
    }

    /// <summary>Drops the oldest request-log entries while their bodies hold more than <see cref="MockWebUiOptions.MaxRequestLogBytes"/>.</summary>
    private void PruneRequestLog()
    {
        var entries = WireMock.LogEntries.ToArray();
        var total = entries.Sum(e => (long)(e.RequestMessage?.Body?.Length ?? 0) * 2);
        foreach (var entry in entries)
        {
            if (total <= _options.MaxRequestLogBytes)
            {
                break;
            }

            total -= (long)(entry.RequestMessage?.Body?.Length ?? 0) * 2;
            WireMock.DeleteLogEntry(entry.Guid);
        }
    }
}
