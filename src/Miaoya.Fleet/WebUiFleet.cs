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
    string? LastError);

/// <summary>
/// Several WebUI boxes behind <see cref="IWebUiBoxes"/>: each call goes to a healthy box that has what it needs, with a
/// free generation slot, preferring the one whose loaded checkpoint matches; a call that fails because of the box is run
/// again on another; calls wait while no box can take them.
/// </summary>
public sealed class WebUiFleet : IWebUiBoxes, IAsyncDisposable
{
    private readonly FleetOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<Box> _boxes;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _health;
    private int _disposed;

    private WebUiFleet(FleetOptions options, List<Box> boxes, TimeProvider time, ILogger logger)
    {
        _options = options;
        _boxes = boxes;
        _time = time;
        _logger = logger;
    }

    /// <summary>A fleet of the configured boxes (nothing is contacted until <see cref="StartAsync"/>).</summary>
    public static WebUiFleet Create(FleetOptions options, WebUiClientFactory factory, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(loggers);
        if (options.Boxes.Count == 0)
        {
            throw new ArgumentException("Fleet: no boxes configured (Fleet:Boxes:0:Url, or --webui URL).", nameof(options));
        }

        var boxes = new List<Box>();
        for (var i = 0; i < options.Boxes.Count; i++)
        {
            var o = options.Boxes[i];
            if (o.Url is null || !o.Url.IsAbsoluteUri)
            {
                throw new ArgumentException($"Fleet:Boxes:{i}:Url: an absolute http(s) URL is required.", nameof(options));
            }

            var name = o.Name ?? o.Url.Authority;
            if (boxes.Any(b => b.Name == name))
            {
                throw new ArgumentException($"Fleet:Boxes:{i}: the name \"{name}\" is used twice.", nameof(options));
            }

            boxes.Add(new Box(name, o, factory.Create(new WebUiEndpoint(o.Url, o.Username, o.Password))));
        }

        return new WebUiFleet(options, boxes, time ?? TimeProvider.System, loggers.CreateLogger<WebUiFleet>());
    }

    /// <summary>Probes every box once (a box that does not answer stays out until a health check passes) and starts health checks.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await Task.WhenAll(_boxes.Select(b => CheckAsync(b, cancellationToken)));
        _health ??= HealthLoopAsync(_stop.Token);
    }

    /// <summary>Every box's state now.</summary>
    public IReadOnlyList<BoxStatus> Status()
    {
        lock (_gate)
        {
            return _boxes.Select(b => new BoxStatus(
                b.Name, b.Options.Url!, b.Options.Labels.ToArray(), b.Health, b.Loaded, b.InFlight, b.Calls, b.Failures, b.ModelSwitches, b.LastError)).ToArray();
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
        var failures = 0;
        while (true)
        {
            Box? box;
            Task changed;
            Dictionary<string, IReadOnlyList<string>> problems = [];
            bool allKnown;
            lock (_gate)
            {
                box = Pick(needs, problems);
                allKnown = _boxes.All(b => b.Capabilities is not null);
                if (box is not null && needs.IsGeneration)
                {
                    box.InFlight++;
                    var wanted = box.Capabilities!.FindCheckpoint(needs.Checkpoint ?? "")?.Title;
                    if (wanted is not null && box.Loaded != wanted)
                    {
                        box.ModelSwitches++;
                        box.Loaded = wanted;
                    }
                }

                changed = _changed.Task;
            }

            if (box is null)
            {
                if (allKnown && problems.Count == _boxes.Count)
                {
                    throw new WebUiBoxesException(needs.Purpose, problems);
                }

                // All boxes busy or down: wait for a change (a call finished, a box came back), re-checking now and then.
                try
                {
                    await changed.WaitAsync(_options.HealthInterval, _time, cancellationToken);
                }
                catch (TimeoutException)
                {
                }

                continue;
            }

            try
            {
                var result = await work(new WebUiBox(box.Name, box.Client, box.Capabilities!), cancellationToken);
                lock (_gate)
                {
                    box.Calls++;
                    box.ConsecutiveFailures = 0;
                }

                return result;
            }
            catch (WebUiException e) when (IsBoxFailure(e) && !cancellationToken.IsCancellationRequested && ++failures <= 2 * _boxes.Count)
            {
                lock (_gate)
                {
                    box.Calls++;
                    box.Failures++;
                    box.LastError = e.Message;
                    if (++box.ConsecutiveFailures >= _options.QuarantineAfterFailures || e is WebUiTransportException)
                    {
                        box.Health = BoxHealth.Quarantined;
                    }
                }

                _logger.LogWarning("{Purpose} failed on {Box} ({Error}); placing it again", needs.Purpose, box.Name, e.Message);
            }
            finally
            {
                lock (_gate)
                {
                    if (needs.IsGeneration)
                    {
                        box.InFlight--;
                    }

                    Pulse();
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        if (_health is not null)
        {
#pragma warning disable VSTHRD003 // the health loop was started by this object and ends with _stop
            await _health;
#pragma warning restore VSTHRD003
        }

        _stop.Dispose();
    }

    /// <summary>A box failure rather than a request failure: nothing usable came back, or the server erred (5xx).</summary>
    private static bool IsBoxFailure(WebUiException e) => e is WebUiTransportException || (e is WebUiApiException api && api.StatusCode >= 500);

    private Box? Pick(BoxNeeds needs, Dictionary<string, IReadOnlyList<string>> problems)
    {
        Box? best = null;
        var bestScore = int.MinValue;
        foreach (var box in _boxes)
        {
            if (box.Capabilities is not { } caps)
            {
                continue;
            }

            if (needs.Check?.Invoke(caps) is { Count: > 0 } lacking)
            {
                problems[box.Name] = lacking;
                continue;
            }

            if (box.Health != BoxHealth.Healthy || (needs.IsGeneration && box.InFlight >= Math.Max(1, box.Options.MaxConcurrent)))
            {
                continue;
            }

            var score = 0;
            if (_options.Affinity && needs.Checkpoint is { } ckpt && box.Loaded is not null && caps.FindCheckpoint(ckpt)?.Title == box.Loaded)
            {
                score += 1000;
            }

            score -= box.InFlight * 10;
            if (score > bestScore)
            {
                best = box;
                bestScore = score;
            }
        }

        return best;
    }

    private void Pulse()
    {
        var previous = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    private async Task HealthLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.HealthInterval, _time, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await Task.WhenAll(_boxes.Where(b => b.Health != BoxHealth.Healthy).Select(b => CheckAsync(b, stop)));
        }
    }

    private async Task CheckAsync(Box box, CancellationToken cancellationToken)
    {
        try
        {
            var caps = await box.Client.ProbeAsync(cancellationToken);
            var options = await box.Client.GetOptionsAsync(cancellationToken);
            var loaded = options.TryGetValue("sd_model_checkpoint", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            lock (_gate)
            {
                box.Capabilities = caps;
                box.Loaded = loaded is null ? null : caps.FindCheckpoint(loaded)?.Title ?? loaded;
                box.Health = BoxHealth.Healthy;
                box.ConsecutiveFailures = 0;
                Pulse();
            }
        }
        catch (Exception e) when (e is WebUiException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                box.Health = box.Capabilities is null ? BoxHealth.Unknown : BoxHealth.Quarantined;
                box.LastError = e.Message;
            }

            _logger.LogWarning("{Box} is not available: {Error}", box.Name, e.Message);
        }
    }

    private sealed class Box(string name, BoxOptions options, WebUiClient client)
    {
        public string Name { get; } = name;

        public BoxOptions Options { get; } = options;

        public WebUiClient Client { get; } = client;

        public WebUiCapabilities? Capabilities { get; set; }

        public BoxHealth Health { get; set; }

        public string? Loaded { get; set; }

        public int InFlight { get; set; }

        public int ConsecutiveFailures { get; set; }

        public long Calls { get; set; }

        public long Failures { get; set; }

        public long ModelSwitches { get; set; }

        public string? LastError { get; set; }
    }
}
