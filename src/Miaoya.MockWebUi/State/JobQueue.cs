using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// The box's generation queue: calls run one at a time (A1111 api.py:467,537 queue_lock) with the configured latency and
/// fail rate; it keeps the job in flight for <c>/sdapi/v1/progress</c> and <c>/sdapi/v1/interrupt</c>, and counts the
/// jobs that ran to the end. Its own lock guards the job in flight. Each call is counted in <paramref name="renders"/> from
/// its arrival, before it waits for its turn, until it ends.
/// </summary>
internal sealed class JobQueue(MockWebUiOptions options, MockState state, MockRandom random, RenderCounter renders) : IDisposable
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    private readonly SemaphoreSlim _queue = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _completed = new(StringComparer.Ordinal);
    private CancellationTokenSource? _render;
    private long _startTicks;
    private long _length;
    private int _count;
    private int _steps;
    private bool _interrupted;
    private string _timestamp = "0";
    private string _name = "";
    private int _interrupts;

    /// <summary>POST /sdapi/v1/interrupt calls received.</summary>
    public int InterruptCount => Volatile.Read(ref _interrupts);

    /// <summary>True while a job runs (progress reports job_count 1).</summary>
    public bool Running
    {
        get
        {
            lock (_gate)
            {
                return _count > 0;
            }
        }
    }

    /// <summary>The job_timestamp of the job in flight, or of the last one ("0" before any).</summary>
    public string Timestamp
    {
        get
        {
            lock (_gate)
            {
                return _timestamp;
            }
        }
    }

    /// <summary>Jobs named <paramref name="name"/> that ran to the end while the box stayed up.</summary>
    public int Completed(string name)
    {
        lock (_gate)
        {
            return _completed.GetValueOrDefault(name);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> as the job <paramref name="name"/> once the queue is free: <paramref name="before"/> first,
    /// then the work alongside the latency (cut short by an interrupt), then the fail-rate draw; <paramref name="after"/>
    /// runs whatever happened. A box that is down when the job's turn comes answers null (its connection is closed anyway).
    /// </summary>
    public async Task<MockHttpResult> RunAsync(string name, int steps, Func<MockHttpResult> work, Func<Task>? before = null, Action? after = null)
    {
        renders.Enter();
        try
        {
            return await RunInTurnAsync(name, steps, work, before, after);
        }
        finally
        {
            renders.Exit(); // done, failed, interrupted or box down alike: no call stays counted in flight
        }
    }

    /// <summary>POST /sdapi/v1/interrupt: the job in flight stops early and is reported as interrupted.</summary>
    public void Interrupt()
    {
        Interlocked.Increment(ref _interrupts);
        lock (_gate)
        {
            _interrupted = true;
            _render?.Cancel();
        }
    }

    /// <summary>Ends the render in flight early without an interrupt (the box went down).</summary>
    public void StopRender()
    {
        lock (_gate)
        {
            _render?.Cancel();
        }
    }

    /// <summary>ProgressResponse (A1111 api.py:602-628; models.py:186-194); idle → 0/0.</summary>
    public JsonObject Progress()
    {
        lock (_gate)
        {
            var active = _count > 0;
            var fraction = 0.0;
            var eta = 0.0;
            if (active)
            {
                var elapsed = (double)(Clock.ElapsedTicks - _startTicks) / Stopwatch.Frequency;
                var total = (double)_length / Stopwatch.Frequency;
                fraction = total <= 0 ? 0.99 : Math.Clamp(elapsed / total, 0.01, 0.99);
                eta = Math.Max(0, total - elapsed);
            }

            return new JsonObject
            {
                ["progress"] = active ? Math.Round(fraction, 4) : 0,
                ["eta_relative"] = active ? Math.Round(eta, 3) : 0,
                ["state"] = new JsonObject
                {
                    ["skipped"] = false,
                    ["interrupted"] = _interrupted,
                    ["stopping_generation"] = false,
                    ["job"] = active ? _name : "",
                    ["job_count"] = _count,
                    ["job_timestamp"] = _timestamp,
                    ["job_no"] = 0,
                    ["sampling_step"] = active ? (int)(fraction * _steps) : 0,
                    ["sampling_steps"] = active ? _steps : 0,
                },
                ["current_image"] = null,
                ["textinfo"] = null,
            };
        }
    }

    public void Dispose() => _queue.Dispose();

    private void CountCompleted(string name)
    {
        lock (_gate)
        {
            _completed[name] = _completed.GetValueOrDefault(name) + 1;
        }
    }

    private async Task<MockHttpResult> RunInTurnAsync(string name, int steps, Func<MockHttpResult> work, Func<Task>? before, Action? after)
    {
        await _queue.WaitAsync();
        try
        {
            if (state.IsDown)
            {
                return MockHttpResult.Null();
            }

            using var render = new CancellationTokenSource();
            var epoch = state.DownEpoch;
            lock (_gate)
            {
                _render = render;
                _startTicks = Clock.ElapsedTicks;
                _length = (long)(options.Latency.TotalSeconds * Stopwatch.Frequency);
                _count = 1;
                _steps = Math.Max(1, steps);
                _interrupted = false;
                _name = name;
                _timestamp = DateTime.Now.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            }

            try
            {
                if (before is not null)
                {
                    await before();
                }

                // Latency is the box's whole time for the call: the mock's own work (decoding, painting, encoding the
                // images) runs meanwhile rather than after it, as a GPU box's render time includes its encoding.
                var rendering = options.Latency > TimeSpan.Zero ? Task.Run(work) : null;
                if (options.Latency > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(options.Latency, render.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        // interrupted: the real server stops sampling early and still answers (inference).
                    }
                }

                var result = rendering is null ? work() : await rendering;
                if (options.FailRate > 0 && random.NextDouble() < options.FailRate)
                {
                    throw MockRouteException.Internal("OutOfMemoryError",
                        "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 8.00 GiB total capacity; 5.91 GiB already allocated; 0 bytes free; 6.12 GiB reserved in total by PyTorch)");
                }

                if (state.DownEpoch == epoch)
                {
                    CountCompleted(name); // not when the box died during the call (its answer is never sent)
                }

                return result;
            }
            finally
            {
                after?.Invoke();
                lock (_gate)
                {
                    _render = null;
                    _count = 0;
                    _name = "";
                }
            }
        }
        finally
        {
            _queue.Release();
        }
    }
}
