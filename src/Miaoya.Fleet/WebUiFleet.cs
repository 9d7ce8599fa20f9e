using System.Text.Json;
using Microsoft.Extensions.Logging;
using Miaoya.WebUi;

namespace Miaoya.Fleet;

/// <summary>
/// Several WebUI boxes behind <see cref="IWebUiBoxes"/>, in three parts split the way Polly splits a strategy from its
/// state: <see cref="FleetDispatcher"/> places calls (one FIFO queue, checkpoint affinity, slots), each box's
/// <see cref="BoxHealthState"/> decides whether it takes calls (quarantine, half-open trial), and
/// <see cref="FleetMetrics"/> counts. This type does the I/O around them: it runs a placed call, reports how it ended,
/// places a call that failed because of its box again elsewhere (up to <see cref="FleetOptions.MaxAttempts"/>), and checks
/// every box's health on a timer. While no box can take a call it waits.
/// </summary>
public sealed class WebUiFleet : IWebUiBoxes, IBoxRoster, IAsyncDisposable
{
    private readonly FleetOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<FleetBox> _boxes;
    private readonly Dictionary<FleetBox, WebUiClient> _clients;
    private readonly FleetDispatcher _dispatcher;
    private readonly FleetMetrics _metrics;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _healthLoops = [];
    private long _sequence;
    private int _disposed;

    private WebUiFleet(FleetOptions options, List<(FleetBox Box, WebUiClient Client)> boxes, TimeProvider time, ILogger logger)
    {
        _options = options;
        _boxes = boxes.ConvertAll(b => b.Box);
        _clients = boxes.ToDictionary(b => b.Box, b => b.Client);
        _time = time;
        _logger = logger;
        _metrics = new FleetMetrics(() => QueueDepth);
        _dispatcher = new FleetDispatcher(_boxes, options, _metrics);
    }

    /// <summary>Calls waiting for a box now.</summary>
    public int QueueDepth
    {
        get
        {
            lock (_gate)
            {
                return _dispatcher.QueueDepth;
            }
        }
    }

    /// <summary>CPU time spent placing calls (under the lock), for the scale benchmark.</summary>
    internal TimeSpan DispatchTime
    {
        get
        {
            lock (_gate)
            {
                return _metrics.DispatchTime;
            }
        }
    }

    /// <summary>Placement rounds so far, for the scale benchmark.</summary>
    internal long DispatchRounds
    {
        get
        {
            lock (_gate)
            {
                return _metrics.DispatchRounds;
            }
        }
    }

    /// <summary>A fleet of the configured boxes (nothing is contacted until <see cref="StartAsync"/>).</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static WebUiFleet Create(FleetOptions options, WebUiClientFactory factory, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(loggers);
        if (options.Validate() is { Count: > 0 } problems)
        {
            throw new ArgumentException(string.Join(Environment.NewLine, problems), nameof(options));
        }

        time ??= TimeProvider.System;
        var boxes = options.Boxes
            .Select((o, i) => (new FleetBox(o.Name ?? o.Url!.Authority, o, i, options.QuarantineAfterFailures, time), factory.Create(new WebUiEndpoint(o.Url!, o.Username, o.Password))))
            .ToList();
        return new WebUiFleet(options, boxes, time, loggers.CreateLogger<WebUiFleet>());
    }

    /// <summary>Probes every box once (a box that does not answer stays out until a health check passes) and starts health checks.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await Task.WhenAll(_boxes.Select(b => CheckAsync(b, cancellationToken)));
        lock (_gate)
        {
            if (_healthLoops.Count == 0 && _disposed == 0)
            {
                _healthLoops.AddRange(_boxes.Select(b => HealthLoopAsync(b, _stop.Token)));
            }
        }
    }

    /// <summary>Every box's state now.</summary>
    public IReadOnlyList<BoxStatus> Status() => Snapshot().Boxes;

    /// <inheritdoc />
    public AffinityRules Affinity => new(_options.Affinity, _options.AffinityLookahead, _options.AffinityMaxSkips);

    /// <inheritdoc />
    public IReadOnlyList<RosterBox> Boxes()
    {
        lock (_gate)
        {
            return _boxes.ConvertAll(b => new RosterBox(
                b.Name, b.ConfiguredSlots, b.Health.Admits && b.Capabilities is not null, b.Health.Health == BoxHealth.Quarantined, b.Loaded, b.Capabilities));
        }
    }

    /// <summary>
    /// What is wrong with asking for LoRA <paramref name="name"/> on this fleet, or null: checked at submission, before a
    /// job's first call. A LoRA that no probed box lists is probed for once more (a box may have been given it since, as
    /// <c>miaoya lora install</c> does); still missing, the problem names the boxes and the closest names. Null while no
    /// box has been probed yet (nothing to tell), and when a box cannot be reached to ask.
    /// </summary>
    public async Task<string?> LoraProblemAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        List<(FleetBox Box, WebUiCapabilities Caps)> probed;
        lock (_gate)
        {
            probed = _boxes.Where(b => b.Capabilities is not null && b.Health.Health != BoxHealth.Quarantined).Select(b => (b, b.Capabilities!)).ToList();
        }

        if (probed.Count == 0 || probed.Any(p => ListsLora(p.Caps, name)))
        {
            return null;
        }

        var known = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (box, _) in probed)
        {
            WebUiCapabilities caps;
            try
            {
                caps = await _clients[box].ProbeAsync(cancellationToken);
            }
            catch (WebUiException)
            {
                return null;
            }

            lock (_gate)
            {
                box.Capabilities = caps;
                box.ProbedAt = _time.GetTimestamp();
            }

            if (ListsLora(caps, name))
            {
                return null;
            }

            known.UnionWith(caps.Loras.Select(l => l.Name));
        }

        return $"LoRA \"{Limits.UserText.Quote(name)}\" is on none of the boxes ({string.Join(", ", probed.Select(p => p.Box.Name))}); {NameMatcher.Suggest(name, known)}. " +
            "Put it in models/Lora on a box and refresh its list (miaoya lora install does both).";
    }

    private static bool ListsLora(WebUiCapabilities caps, string name) => caps.Loras.Any(l => l.Name == name || l.Alias == name);

    /// <summary>Every box's state and the queue depth, taken at one moment.</summary>
    public FleetStatus Snapshot()
    {
        lock (_gate)
        {
            var boxes = _boxes.Select(b => new BoxStatus(
                b.Name, b.Options.Url!, b.Options.Labels.ToArray(), b.Health.Health, b.Loaded, b.GenerationInFlight, b.Counts.Calls, b.Counts.Failures, b.Counts.ModelSwitches, b.Health.LastError)
            {
                MaxConcurrent = b.ConfiguredSlots,
                OtherInFlight = b.OtherInFlight,
                Waiting = _dispatcher.WaitingFor(b),
                MeanCallSeconds = b.Counts.MeanCallSeconds,
                LastSeen = b.Health.LastSeen,
                ConsecutiveFailures = Math.Max(b.Health.CallFailures, b.Health.CheckFailures),
                OnTrial = b.Health.OnTrial,
                Backend = b.Capabilities?.Backend.DisplayName(),
                Server = b.Capabilities?.WebUiVersion,
            }).ToArray();
            return new FleetStatus(boxes, _dispatcher.QueueDepth);
        }
    }

    /// <summary>Tells a box to stop what it renders (<c>POST /sdapi/v1/interrupt</c>); false for an unknown box or when it did not answer.</summary>
    public async Task<bool> InterruptAsync(string box, CancellationToken cancellationToken = default)
    {
        var target = _boxes.FirstOrDefault(b => b.Name == box);
        if (target is null)
        {
            return false;
        }

        try
        {
            await _clients[target].InterruptAsync(cancellationToken);
            return true;
        }
        catch (WebUiException e)
        {
            _logger.LogWarning("Interrupt of {Box} failed: {Error}", box, e.Message);
            return false;
        }
    }

    /// <inheritdoc />
    public async Task<T> RunAsync<T>(BoxNeeds needs, Func<WebUiBox, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(needs);
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var call = new FleetCall(needs, Interlocked.Increment(ref _sequence));
        var attempts = 0;
        while (true)
        {
            var queued = _time.GetTimestamp();
            var (box, dispatch) = await AcquireAsync(call, cancellationToken);
            var started = _time.GetTimestamp();
            var span = FleetTelemetry.StartCall(box, needs.Purpose, attempts + 1, _time.GetElapsedTime(queued, started));
            string? renderedWith = null;
            T result;
            try
            {
                result = await work(new WebUiBox(box.Name, _clients[box], box.Capabilities!, model => renderedWith = model), cancellationToken);
            }
            catch (WebUiException e) when (Failures.Classify(e) is FailureKind.Transient or FailureKind.Box && !cancellationToken.IsCancellationRequested)
            {
                attempts++;
                var again = attempts < _options.MaxAttempts;
                FleetTelemetry.EndCall(span, CallOutcome.BoxFailure, e);
                Release(box, call, dispatch, CallOutcome.BoxFailure, e, started, null);
                if (!again)
                {
                    _logger.LogWarning("{Purpose} failed on {Box} ({Error}); {Attempts} attempts failed, giving up", needs.Purpose, box.Name, e.Message, attempts);
                    throw;
                }

                call.FailedOn.Add(box);
                _logger.LogWarning("{Purpose} failed on {Box} ({Error}); placing it again (attempt {Attempt} of {Max})", needs.Purpose, box.Name, e.Message, attempts + 1, _options.MaxAttempts);
                continue;
            }
            catch (WebUiApiException e) when (Failures.Classify(e) == FailureKind.Request && !cancellationToken.IsCancellationRequested)
            {
                // The request's fault: no other box would answer differently.
                FleetTelemetry.EndCall(span, CallOutcome.RequestFailure, e);
                Release(box, call, dispatch, CallOutcome.RequestFailure, e, started, null);
                throw;
            }
            catch
            {
                FleetTelemetry.EndCall(span, CallOutcome.Abandoned, null);
                Release(box, call, dispatch, CallOutcome.Abandoned, null, started, null);
                throw;
            }

            FleetTelemetry.EndCall(span, CallOutcome.Success, null);
            Release(box, call, dispatch, CallOutcome.Success, null, started, renderedWith);
            return result;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        Task[] loops;
        lock (_gate)
        {
            loops = [.. _healthLoops];
            foreach (var call in _dispatcher.Drain())
            {
                call.Assigned.TrySetException(new ObjectDisposedException(nameof(WebUiFleet), "The fleet was stopped while the call waited for a box."));
            }
        }

#pragma warning disable VSTHRD003 // the health loops were started by this object and end with _stop
        await Task.WhenAll(loops);
#pragma warning restore VSTHRD003
        _stop.Dispose();
        _metrics.Dispose();
    }

    // ---- calls -------------------------------------------------------------------------------------

    private async Task<(FleetBox Box, long Dispatch)> AcquireAsync(FleetCall call, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            _dispatcher.Enqueue(call);
            _dispatcher.Dispatch();
        }

        try
        {
            return await call.Assigned.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                // Out of the queue (a call behind it may have been held back for it), or the slot it was just given back.
                _dispatcher.Withdraw(call);
                DispatchIfRunning();
            }

            throw;
        }
    }

    /// <summary>A call ended: its slot is freed, the box's counts and health follow the outcome, and the next call is placed.</summary>
    /// <param name="box">The box it ran on.</param>
    /// <param name="call">The call.</param>
    /// <param name="dispatch">The box's dispatch count when the call got it (a later one supersedes what this call saw loaded).</param>
    /// <param name="outcome">How it ended.</param>
    /// <param name="error">Why it failed, if it did.</param>
    /// <param name="started">When it started (a <see cref="TimeProvider"/> timestamp).</param>
    /// <param name="renderedWith">The checkpoint the call's answer says rendered it (<see cref="WebUiBox.Rendered"/>), if it did.</param>
    private void Release(FleetBox box, FleetCall call, long dispatch, CallOutcome outcome, Exception? error, long started, string? renderedWith)
    {
        var elapsed = _time.GetElapsedTime(started);
        var quarantined = false;
        lock (_gate)
        {
            FleetDispatcher.Free(box, call.Needs);
            _metrics.CallEnded(box, outcome, elapsed);
            switch (outcome)
            {
                case CallOutcome.Success:
                    box.Health.CallSucceeded();
                    if (call.Needs.IsGeneration && dispatch == box.Dispatches && box.TitleOf(renderedWith) is { } loaded && loaded != box.Loaded)
                    {
                        // The answer says which model rendered; trust it over our guess (e.g. an override the box dropped).
                        _logger.LogInformation("{Box} rendered with {Loaded}, not {Expected}", box.Name, loaded, box.Loaded);
                        box.Loaded = loaded;
                    }

                    break;
                case CallOutcome.RequestFailure:
                    box.Health.CallRefusedRequest();
                    break;
                case CallOutcome.BoxFailure:
                    var refused = error is WebUiTransportException { Failure: WebUiTransportFailure.ConnectionFailed or WebUiTransportFailure.CircuitOpen };
                    quarantined = box.Health.CallFailed(error!.Message, refused);
                    break;
            }

            DispatchIfRunning();
        }

        if (quarantined)
        {
            _logger.LogWarning("{Box} quarantined after {Failures} failed calls in a row: {Error}", box.Name, box.Health.CallFailures, error!.Message);
        }
    }

    /// <summary>Places waiting calls (under <see cref="_gate"/>), unless the fleet is stopping.</summary>
    private void DispatchIfRunning()
    {
        if (_disposed == 0)
        {
            _dispatcher.Dispatch();
        }
    }

    // ---- health ------------------------------------------------------------------------------------

    private async Task HealthLoopAsync(FleetBox box, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.HealthInterval, _time, stop);
                await CheckAsync(box, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Never let one odd failure end the box's checks.
                _logger.LogError(e, "Health check of {Box} failed unexpectedly", box.Name);
            }
        }
    }

    /// <summary>
    /// One health check: a full probe (capabilities and the loaded checkpoint) for a box not healthy yet or due for a
    /// refresh, else a cheap <c>GET /sdapi/v1/progress</c>. A pass admits the box (on trial after a quarantine); failures
    /// count towards quarantine.
    /// </summary>
    private async Task CheckAsync(FleetBox box, CancellationToken cancellationToken)
    {
        bool probe;
        lock (_gate)
        {
            probe = !box.Health.Admits || box.ProbedAt is not { } at || _time.GetElapsedTime(at) >= _options.CapabilitiesRefresh;
        }

        var client = _clients[box];
        try
        {
            WebUiCapabilities? caps = null;
            string? loaded = null;
            if (probe)
            {
                caps = await client.ProbeAsync(cancellationToken);
                var options = await client.GetOptionsAsync(cancellationToken);
                loaded = options.TryGetValue("sd_model_checkpoint", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            }
            else
            {
                await client.GetProgressAsync(cancellationToken: cancellationToken);
            }

            BoxHealth before;
            lock (_gate)
            {
                if (caps is not null)
                {
                    box.Capabilities = caps;
                    box.ProbedAt = _time.GetTimestamp();
                    if (box.GenerationInFlight == 0 && loaded is not null)
                    {
                        // With override_settings_restore_afterwards: false the option names the loaded model.
                        box.Loaded = caps.FindCheckpoint(loaded)?.Title ?? loaded;
                    }
                }

                before = box.Health.CheckPassed();
                DispatchIfRunning();
            }

            if (before != BoxHealth.Healthy)
            {
                _logger.LogInformation("{Box} is {State}", box.Name, before == BoxHealth.Quarantined ? "back (re-admitted on trial)" : "up");
            }
        }
        catch (Exception e) when (e is WebUiException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            bool quarantined;
            lock (_gate)
            {
                quarantined = box.Health.CheckFailed(e.Message);
            }

            if (quarantined)
            {
                _logger.LogWarning("{Box} quarantined: {Failures} failed health checks in a row, last: {Error}", box.Name, box.Health.CheckFailures, e.Message);
            }
            else
            {
                _logger.LogDebug("Health check of {Box} failed: {Error}", box.Name, e.Message);
            }
        }
    }
}
