using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Miaoya.WebUi;

namespace Miaoya.Fleet;

/// <summary>Health of a box as the fleet sees it.</summary>
public enum BoxHealth
{
    /// <summary>Not probed successfully yet.</summary>
    Unknown,
    Healthy,

    /// <summary>Taken out after repeated failures; a passing health check re-admits it.</summary>
    Quarantined,
}

/// <summary>A box's state for <c>/v1/backends</c> and the batch summary.</summary>
/// <param name="Name">As configured, or the URL's host:port.</param>
/// <param name="Url">The box's base URL.</param>
/// <param name="Labels">Free-form labels from the configuration.</param>
/// <param name="Health">Whether calls are sent to it.</param>
/// <param name="LoadedCheckpoint">The checkpoint title it has loaded, as far as the fleet knows (probe, then what was sent and answered).</param>
/// <param name="InFlight">Generation calls running on the box now (each takes one of its <see cref="MaxConcurrent"/> slots).</param>
/// <param name="Calls">Calls that ran on the box to an answer or a failure.</param>
/// <param name="Failures">Calls that failed because of the box (transport error, 5xx, unreadable answer).</param>
/// <param name="ModelSwitches">Generation calls sent to the box whose checkpoint was not the one it had loaded.</param>
/// <param name="LastError">The last failure of a call or health check on the box.</param>
public sealed record BoxStatus(
    string Name,
    Uri Url,
    IReadOnlyList<string> Labels,
    BoxHealth Health,
    string? LoadedCheckpoint,
    int InFlight,
    long Calls,
    long Failures,
    long ModelSwitches,
    string? LastError)
{
    /// <summary>Generation slots (the box's <see cref="BoxOptions.MaxConcurrent"/>).</summary>
    public int MaxConcurrent { get; init; } = 1;

    /// <summary>Calls that take no generation slot (tagger, rembg, ControlNet detect) running on the box now.</summary>
    public int OtherInFlight { get; init; }

    /// <summary>Waiting calls this box could run (it has what they need); the fleet's queue depth is <see cref="FleetStatus.QueueDepth"/>.</summary>
    public int Waiting { get; init; }

    /// <summary>Mean seconds of the calls that succeeded on the box (null before the first).</summary>
    public double? MeanCallSeconds { get; init; }

    /// <summary>When the box last answered a call or a health check (null: never).</summary>
    public DateTimeOffset? LastSeen { get; init; }

    /// <summary>Failed calls or failed health checks in a row, whichever is more (<see cref="FleetOptions.QuarantineAfterFailures"/> of either quarantines).</summary>
    public int ConsecutiveFailures { get; init; }
}

/// <summary>The fleet at one moment: every box, and how many calls wait for one.</summary>
public sealed record FleetStatus(IReadOnlyList<BoxStatus> Boxes, int QueueDepth);

/// <summary>
/// Several WebUI boxes behind <see cref="IWebUiBoxes"/>. Calls wait in one FIFO queue; when a box frees (or comes back)
/// it goes to the oldest waiting call it can serve (the call's checks pass on its capabilities, and a generation call
/// needs one of its <see cref="BoxOptions.MaxConcurrent"/> slots; the tagger, rembg and detect need none). With
/// <see cref="FleetOptions.Affinity"/> a younger call whose checkpoint the box has loaded may go first (bounded by
/// <see cref="FleetOptions.AffinityLookahead"/> and <see cref="FleetOptions.AffinityMaxSkips"/>, so nothing starves).
/// A call that fails because of its box runs again elsewhere (up to <see cref="FleetOptions.MaxAttempts"/>); a box that
/// keeps failing is quarantined until a health check passes; while no box can take a call it waits.
/// </summary>
public sealed class WebUiFleet : IWebUiBoxes, IAsyncDisposable
{
    private readonly FleetOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<Box> _boxes;
    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _queue = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _healthLoops = [];
    private long _sequence;
    private int _disposed;

    private WebUiFleet(FleetOptions options, List<Box> boxes, TimeProvider time, ILogger logger)
    {
        _options = options;
        _boxes = boxes;
        _time = time;
        _logger = logger;
    }

    /// <summary>Calls waiting for a box now.</summary>
    public int QueueDepth
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
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

        var boxes = options.Boxes
            .Select(o => new Box(o.Name ?? o.Url!.Authority, o, factory.Create(new WebUiEndpoint(o.Url!, o.Username, o.Password))))
            .ToList();
        return new WebUiFleet(options, boxes, time ?? TimeProvider.System, loggers.CreateLogger<WebUiFleet>());
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

    /// <summary>
    /// What is wrong with asking for LoRA <paramref name="name"/> on this fleet, or null: checked at submission, before a
    /// job's first call. A LoRA that no probed box lists is probed for once more (a box may have been given it since, as
    /// <c>miaoya lora install</c> does); still missing, the problem names the boxes and the closest names. Null while no
    /// box has been probed yet (nothing to tell), and when a box cannot be reached to ask.
    /// </summary>
    public async Task<string?> LoraProblemAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        List<(Box Box, WebUiCapabilities Caps)> probed;
        lock (_gate)
        {
            probed = _boxes.Where(b => b.Capabilities is not null && b.Health != BoxHealth.Quarantined).Select(b => (b, b.Capabilities!)).ToList();
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
                caps = await box.Client.ProbeAsync(cancellationToken);
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
                b.Name, b.Options.Url!, b.Options.Labels.ToArray(), b.Health, b.Loaded, b.GenerationInFlight, b.Calls, b.Failures, b.ModelSwitches, b.LastError)
            {
                MaxConcurrent = b.Slots,
                OtherInFlight = b.OtherInFlight,
                Waiting = b.Capabilities is null ? 0 : _queue.Count(w => w.Problems(b).Count == 0),
                MeanCallSeconds = b.Succeeded == 0 ? null : b.SucceededSeconds / b.Succeeded,
                LastSeen = b.LastSeen,
                ConsecutiveFailures = Math.Max(b.CallFailures, b.CheckFailures),
            }).ToArray();
            return new FleetStatus(boxes, _queue.Count);
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
            await target.Client.InterruptAsync(cancellationToken);
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
        var waiter = new Waiter(needs, Interlocked.Increment(ref _sequence));
        var attempts = 0;
        while (true)
        {
            var (box, dispatch) = await AcquireAsync(waiter, cancellationToken);
            var started = _time.GetTimestamp();
            string? renderedWith = null;
            T result;
            try
            {
                result = await work(new WebUiBox(box.Name, box.Client, box.Capabilities!, model => renderedWith = model), cancellationToken);
            }
            catch (WebUiException e) when (IsBoxFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                attempts++;
                var again = attempts < _options.MaxAttempts;
                Release(box, waiter, dispatch, Outcome.BoxFailure, e, started, null);
                if (!again)
                {
                    _logger.LogWarning("{Purpose} failed on {Box} ({Error}); {Attempts} attempts failed, giving up", needs.Purpose, box.Name, e.Message, attempts);
                    throw;
                }

                waiter.FailedOn.Add(box);
                _logger.LogWarning("{Purpose} failed on {Box} ({Error}); placing it again (attempt {Attempt} of {Max})", needs.Purpose, box.Name, e.Message, attempts + 1, _options.MaxAttempts);
                continue;
            }
            catch (WebUiApiException e) when (e.StatusCode is >= 400 and < 500 && !cancellationToken.IsCancellationRequested)
            {
                // The request's fault: no other box would answer differently.
                Release(box, waiter, dispatch, Outcome.RequestFailure, e, started, null);
                throw;
            }
            catch
            {
                Release(box, waiter, dispatch, Outcome.Abandoned, null, started, null);
                throw;
            }

            Release(box, waiter, dispatch, Outcome.Success, null, started, renderedWith);
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
            foreach (var waiter in _queue)
            {
                waiter.Assigned.TrySetException(new ObjectDisposedException(nameof(WebUiFleet), "The fleet was stopped while the call waited for a box."));
            }

            _queue.Clear();
        }

#pragma warning disable VSTHRD003 // the health loops were started by this object and end with _stop
        await Task.WhenAll(loops);
#pragma warning restore VSTHRD003
        _stop.Dispose();
    }

    /// <summary>
    /// A box failure rather than a request failure: nothing usable came back, the server erred (5xx), or the box refused
    /// us rather than the request (401/403: its credentials; 408/429: it is overloaded). Other 4xx are about the request.
    /// </summary>
    internal static bool IsBoxFailure(WebUiException e) => Failures.Classify(e) is FailureKind.Transient or FailureKind.Box;

    // ---- queue and dispatch ------------------------------------------------------------------------

    private async Task<(Box Box, long Dispatch)> AcquireAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            waiter.Reset();
            Enqueue(waiter);
            Dispatch();
        }

        try
        {
            return await waiter.Assigned.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                if (waiter.Node.List is not null)
                {
                    _queue.Remove(waiter.Node);
                    Dispatch(); // a call behind it may have been held back for it
                }
                else if (waiter.Given is { } box)
                {
                    // Given a box just as it was cancelled: hand the slot back.
                    Free(box, waiter.Needs);
                    Dispatch();
                }
            }

            throw;
        }
    }

    /// <summary>Into the queue by age: a call placed again keeps its place ahead of younger ones.</summary>
    private void Enqueue(Waiter waiter)
    {
        var after = _queue.Last;
        while (after is not null && after.Value.Sequence > waiter.Sequence)
        {
            after = after.Previous;
        }

        if (after is null)
        {
            _queue.AddFirst(waiter.Node);
        }
        else
        {
            _queue.AddAfter(after, waiter.Node);
        }
    }

    /// <summary>Hands free boxes to waiting calls (under <see cref="_gate"/>); see the type's summary for the order.</summary>
    private void Dispatch()
    {
        if (_disposed != 0)
        {
            return;
        }

        // First pass: affinity may hold a box back from an older call for a younger one that needs no switch. Second
        // pass: a box still free goes to the oldest call it can serve, so no box idles while a call it could run waits
        // (the younger call it was held for may have gone to another box with the same model).
        var started = Stopwatch.GetTimestamp();
        var passedOver = new HashSet<Waiter>();
        DispatchPass(passedOver);
        DispatchPass(null);
        foreach (var waiter in passedOver.Where(w => w.Given is null))
        {
            waiter.Skips++;
        }

        DispatchTime += Stopwatch.GetElapsedTime(started);
    }

    /// <summary>CPU time spent placing calls (under the lock), for the benchmark.</summary>
    internal TimeSpan DispatchTime { get; private set; }

    private void DispatchPass(HashSet<Waiter>? passedOver)
    {
        var node = _queue.First;
        while (node is not null)
        {
            var next = node.Next;
            var waiter = node.Value;
            if (NeverRunnable(waiter) is { } problems)
            {
                _queue.Remove(node);
                waiter.Assigned.TrySetException(new WebUiBoxesException(waiter.Needs.Purpose, problems));
                node = next;
                continue;
            }

            var candidates = Candidates(waiter);
            var box = candidates.Count == 0 ? null : Choose(waiter, candidates, node, passedOver);
            if (box is not null)
            {
                _queue.Remove(node);
                var dispatch = Take(box, waiter.Needs);
                waiter.Given = box;
                waiter.Assigned.TrySetResult((box, dispatch));
            }

            node = next;
        }
    }

    /// <summary>The healthy boxes that could run the call now; a retried call avoids the boxes it failed on while another could run it.</summary>
    private List<Box> Candidates(Waiter waiter)
    {
        var free = new List<Box>();
        var avoidable = false;
        foreach (var box in _boxes)
        {
            if (box.Health != BoxHealth.Healthy || box.Capabilities is null || waiter.Problems(box).Count > 0)
            {
                continue;
            }

            if (!waiter.FailedOn.Contains(box))
            {
                avoidable = true;
            }

            if (!waiter.Needs.IsGeneration || box.GenerationInFlight < box.Slots)
            {
                free.Add(box);
            }
        }

        if (avoidable)
        {
            free.RemoveAll(waiter.FailedOn.Contains);
        }
        else
        {
            waiter.FailedOn.Clear(); // every box that could run it failed it once: try them again
        }

        return free;
    }

    /// <summary>The box for the call among the free <paramref name="candidates"/>, or null to hold it back (first pass only: <paramref name="passedOver"/> set).</summary>
    private Box? Choose(Waiter waiter, List<Box> candidates, LinkedListNode<Waiter> node, HashSet<Waiter>? passedOver)
    {
        if (!waiter.Needs.IsGeneration || waiter.Needs.Checkpoint is null || !_options.Affinity)
        {
            return LeastBusy(candidates);
        }

        var matching = candidates.Where(b => b.Loaded is not null && b.Loaded == Target(waiter, b)).ToList();
        if (matching.Count > 0)
        {
            return LeastBusy(matching);
        }

        // Every free box would have to switch models for this call. A younger call (within the lookahead) that one of
        // them could run without a switch goes first on that box, unless this call has been passed over often enough.
        var window = Window(node);
        var open = candidates;
        if (passedOver is not null && waiter.Skips < _options.AffinityMaxSkips)
        {
            open = candidates.Where(b => !window.Any(w => w.Needs.IsGeneration && b.Loaded is not null && Target(w, b) == b.Loaded && w.Problems(b).Count == 0 && !w.FailedOn.Contains(b))).ToList();
            if (open.Count < candidates.Count)
            {
                passedOver.Add(waiter);
            }

            if (open.Count == 0)
            {
                return null;
            }
        }

        // Switch the box whose loaded checkpoint the fewest waiting calls want.
        return open.OrderBy(b => window.Count(w => b.Loaded is not null && Target(w, b) == b.Loaded)).ThenBy(Busy).ThenBy(_boxes.IndexOf).First();
    }

    private List<Waiter> Window(LinkedListNode<Waiter> node)
    {
        var window = new List<Waiter>();
        for (var n = node.Next; n is not null && window.Count < _options.AffinityLookahead; n = n.Next)
        {
            window.Add(n.Value);
        }

        return window;
    }

    private Box LeastBusy(List<Box> boxes) => boxes.OrderBy(Busy).ThenBy(_boxes.IndexOf).First();

    private static double Busy(Box box) => (double)box.GenerationInFlight / box.Slots + (box.OtherInFlight * 0.01);

    /// <summary>The title of the call's checkpoint on that box (as its capabilities name it), or the name as given.</summary>
    private static string? Target(Waiter waiter, Box box) => waiter.Target(box);

    /// <summary>When every box is known and none has what the call needs: the problems per box; else null (it may yet run).</summary>
    private Dictionary<string, IReadOnlyList<BoxProblem>>? NeverRunnable(Waiter waiter)
    {
        var problems = new Dictionary<string, IReadOnlyList<BoxProblem>>();
        foreach (var box in _boxes)
        {
            if (box.Capabilities is null)
            {
                return null;
            }

            if (waiter.Problems(box) is { Count: > 0 } lacking)
            {
                problems[box.Name] = lacking;
            }
            else
            {
                return null;
            }
        }

        return problems;
    }

    /// <summary>Occupies the box for the call; returns the box's dispatch number (whether a later generation call was sent since).</summary>
    private static long Take(Box box, BoxNeeds needs)
    {
        if (!needs.IsGeneration)
        {
            box.OtherInFlight++;
            return box.Dispatches;
        }

        box.GenerationInFlight++;
        if (needs.Checkpoint is { } name)
        {
            var wanted = box.Capabilities!.FindCheckpoint(name)?.Title ?? name;
            if (box.Loaded != wanted)
            {
                box.ModelSwitches++;
                box.Loaded = wanted;
            }
        }

        return ++box.Dispatches;
    }

    private static void Free(Box box, BoxNeeds needs)
    {
        if (needs.IsGeneration)
        {
            box.GenerationInFlight--;
        }
        else
        {
            box.OtherInFlight--;
        }
    }

    /// <summary>A call ended: its slot is freed, the box's counts and health follow the outcome, and the next call is dispatched.</summary>
    /// <param name="box">The box it ran on.</param>
    /// <param name="waiter">The call.</param>
    /// <param name="dispatch">The box's dispatch count when the call got it (a later one supersedes what this call saw loaded).</param>
    /// <param name="outcome">How it ended.</param>
    /// <param name="error">Why it failed, if it did.</param>
    /// <param name="started">When it started (a <see cref="TimeProvider"/> timestamp).</param>
    /// <param name="renderedWith">The checkpoint the call's answer says rendered it (<see cref="WebUiBox.Rendered"/>), if it did.</param>
    private void Release(Box box, Waiter waiter, long dispatch, Outcome outcome, Exception? error, long started, string? renderedWith)
    {
        var elapsed = _time.GetElapsedTime(started);
        var quarantined = false;
        lock (_gate)
        {
            Free(box, waiter.Needs);
            switch (outcome)
            {
                case Outcome.Success:
                    box.Calls++;
                    box.Succeeded++;
                    box.SucceededSeconds += elapsed.TotalSeconds;
                    box.CallFailures = 0;
                    box.LastSeen = _time.GetUtcNow();
                    if (waiter.Needs.IsGeneration && dispatch == box.Dispatches && Title(renderedWith, box) is { } loaded && loaded != box.Loaded)
                    {
                        // The answer says which model rendered; trust it over our guess (e.g. an override the box dropped).
                        _logger.LogInformation("{Box} rendered with {Loaded}, not {Expected}", box.Name, loaded, box.Loaded);
                        box.Loaded = loaded;
                    }

                    break;
                case Outcome.RequestFailure:
                    box.Calls++;
                    box.LastSeen = _time.GetUtcNow();
                    break;
                case Outcome.BoxFailure:
                    box.Calls++;
                    box.Failures++;
                    box.LastError = error!.Message;
                    box.CallFailures++;
                    var refused = error is WebUiTransportException { Failure: WebUiTransportFailure.ConnectionFailed or WebUiTransportFailure.CircuitOpen };
                    if (box.Health == BoxHealth.Healthy && (refused || box.CallFailures >= _options.QuarantineAfterFailures))
                    {
                        box.Health = BoxHealth.Quarantined;
                        quarantined = true;
                    }

                    break;
            }

            Dispatch();
        }

        if (quarantined)
        {
            _logger.LogWarning("{Box} quarantined after {Failures} failed calls in a row: {Error}", box.Name, box.CallFailures, error!.Message);
        }
    }

    /// <summary>The box's title of the checkpoint a generation answer names (<c>info.sd_model_name</c>), if it knows it.</summary>
    private static string? Title(string? modelName, Box box) =>
        modelName is null || box.Capabilities is not { } caps ? null : caps.Checkpoints.FirstOrDefault(c => c.ModelName == modelName)?.Title;

    // ---- health ------------------------------------------------------------------------------------

    private async Task HealthLoopAsync(Box box, CancellationToken stop)
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
    /// refresh, else a cheap <c>GET /sdapi/v1/progress</c>. A pass re-admits a quarantined box; failures count towards quarantine.
    /// </summary>
    private async Task CheckAsync(Box box, CancellationToken cancellationToken)
    {
        bool probe;
        lock (_gate)
        {
            probe = box.Health != BoxHealth.Healthy || box.ProbedAt is not { } at || _time.GetElapsedTime(at) >= _options.CapabilitiesRefresh;
        }

        try
        {
            WebUiCapabilities? caps = null;
            string? loaded = null;
            if (probe)
            {
                caps = await box.Client.ProbeAsync(cancellationToken);
                var options = await box.Client.GetOptionsAsync(cancellationToken);
                loaded = options.TryGetValue("sd_model_checkpoint", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            }
            else
            {
                await box.Client.GetProgressAsync(cancellationToken: cancellationToken);
            }

            BoxHealth before;
            lock (_gate)
            {
                before = box.Health;
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

                box.LastSeen = _time.GetUtcNow();
                if (before != BoxHealth.Healthy)
                {
                    box.Health = BoxHealth.Healthy;

                    // Half-open: one more failed call sends a re-admitted box back to quarantine.
                    box.CallFailures = before == BoxHealth.Quarantined ? _options.QuarantineAfterFailures - 1 : 0;
                }

                // A box that answers checks but fails calls keeps its count of failed calls.
                box.CheckFailures = 0;

                Dispatch();
            }

            if (before != BoxHealth.Healthy)
            {
                _logger.LogInformation("{Box} is {State}", box.Name, before == BoxHealth.Quarantined ? "back (re-admitted)" : "up");
            }
        }
        catch (Exception e) when (e is WebUiException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            bool quarantined;
            lock (_gate)
            {
                box.LastError = e.Message;
                box.CheckFailures++;
                quarantined = box.Health == BoxHealth.Healthy && box.CheckFailures >= _options.QuarantineAfterFailures;
                if (quarantined)
                {
                    box.Health = BoxHealth.Quarantined;
                }
            }

            if (quarantined)
            {
                _logger.LogWarning("{Box} quarantined: {Failures} failed health checks in a row, last: {Error}", box.Name, box.CheckFailures, e.Message);
            }
            else
            {
                _logger.LogDebug("Health check of {Box} failed: {Error}", box.Name, e.Message);
            }
        }
    }

    private enum Outcome
    {
        Success,
        BoxFailure,
        RequestFailure,
        Abandoned,
    }

    private sealed class Waiter
    {
        private readonly Dictionary<Box, (WebUiCapabilities Caps, IReadOnlyList<BoxProblem> Problems, string? Target)> _problems = [];

        public Waiter(BoxNeeds needs, long sequence)
        {
            Needs = needs;
            Sequence = sequence;
            Node = new LinkedListNode<Waiter>(this);
        }

        public BoxNeeds Needs { get; }

        public long Sequence { get; }

        public LinkedListNode<Waiter> Node { get; }

        public TaskCompletionSource<(Box Box, long Dispatch)> Assigned { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Skips { get; set; }

        /// <summary>The box the last placement gave it (its slot is taken until released).</summary>
        public Box? Given { get; set; }

        public HashSet<Box> FailedOn { get; } = [];

        /// <summary>A fresh completion for the next placement (a retried call waits again).</summary>
        public void Reset()
        {
            Given = null;
            if (Assigned.Task.IsCompleted)
            {
                Assigned = new TaskCompletionSource<(Box, long)>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        /// <summary>What the box lacks for this call, evaluated once per probe of the box.</summary>
        public IReadOnlyList<BoxProblem> Problems(Box box) => Evaluate(box).Problems;

        /// <summary>The call's checkpoint as the box titles it (or the name as given; null for no checkpoint), once per probe.</summary>
        public string? Target(Box box) => Needs.Checkpoint is null || box.Capabilities is null ? Needs.Checkpoint : Evaluate(box).Target;

        private (WebUiCapabilities Caps, IReadOnlyList<BoxProblem> Problems, string? Target) Evaluate(Box box)
        {
            var caps = box.Capabilities!;
            if (_problems.TryGetValue(box, out var cached) && ReferenceEquals(cached.Caps, caps))
            {
                return cached;
            }

            IReadOnlyList<BoxProblem> problems;
            try
            {
                problems = Needs.Check?.Invoke(caps) ?? [];
            }
            catch (Exception e)
            {
                // A check that throws must not break dispatch (it runs under the fleet's lock): the box cannot run the call.
                problems = [new BoxProblem(Needs.Purpose, $"checking what {Needs.Purpose} needs failed: {e.Message}")];
            }

            var entry = (caps, problems, Needs.Checkpoint is { } name ? caps.FindCheckpoint(name)?.Title ?? name : null);
            _problems[box] = entry;
            return entry;
        }
    }

    private sealed class Box(string name, BoxOptions options, WebUiClient client)
    {
        public string Name { get; } = name;

        public BoxOptions Options { get; } = options;

        public WebUiClient Client { get; } = client;

        public int Slots { get; } = Math.Max(1, options.MaxConcurrent);

        public WebUiCapabilities? Capabilities { get; set; }

        public long? ProbedAt { get; set; }

        public BoxHealth Health { get; set; }

        public string? Loaded { get; set; }

        public int GenerationInFlight { get; set; }

        public int OtherInFlight { get; set; }

        public long Dispatches { get; set; }

        /// <summary>Calls failed by the box in a row (reset by a call that succeeds).</summary>
        public int CallFailures { get; set; }

        /// <summary>Health checks failed in a row (reset by one that passes).</summary>
        public int CheckFailures { get; set; }

        public long Calls { get; set; }

        public long Failures { get; set; }

        public long Succeeded { get; set; }

        public double SucceededSeconds { get; set; }

        public long ModelSwitches { get; set; }

        public string? LastError { get; set; }

        public DateTimeOffset? LastSeen { get; set; }
    }
}
