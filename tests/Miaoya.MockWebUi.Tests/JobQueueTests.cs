using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

public sealed class JobQueueTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly MockWebUiOptions _options = new();
    private readonly MockState _state = new();
    private readonly RenderCounter _renders = new();
    private readonly JobQueue _queue;

    public JobQueueTests()
    {
        _queue = new JobQueue(_options, _state, new MockRandom(1), _renders);
    }

    public void Dispose() => _queue.Dispose();

    private async Task WaitUntilRunningAsync()
    {
        using var cts = new CancellationTokenSource(Patience);
        while (!_queue.Running)
        {
            await Task.Delay(10, cts.Token);
        }
    }

    [Fact]
    public async Task RunAsync_WhileTheWorkRuns_ProgressReportsTheJob_ThenIdleAndCounted()
    {
        using var release = new ManualResetEventSlim();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var job = Task.Run(() => _queue.RunAsync("txt2img", 20, () =>
        {
            started.SetResult();
            release.Wait(Patience);
            return MockHttpResult.Null();
        }));
        await started.Task.WaitAsync(Patience);

        var running = _queue.Progress();
        release.Set();
        await job.WaitAsync(Patience);
        var idle = _queue.Progress();

        Assert.Equal(("txt2img", 1, 20), (running["state"]!["job"]!.GetValue<string>(), running["state"]!["job_count"]!.GetValue<int>(), running["state"]!["sampling_steps"]!.GetValue<int>()));
        Assert.Equal(("", 0, 0), (idle["state"]!["job"]!.GetValue<string>(), idle["state"]!["job_count"]!.GetValue<int>(), idle["state"]!["sampling_steps"]!.GetValue<int>()));
        Assert.Equal(running["state"]!["job_timestamp"]!.GetValue<string>(), idle["state"]!["job_timestamp"]!.GetValue<string>());
        Assert.False(_queue.Running);
        Assert.Equal(1, _queue.Completed("txt2img"));
    }

    [Fact]
    public async Task RunAsync_Interrupted_EndsTheLatencyEarly_AndStillAnswers()
    {
        _options.Latency = TimeSpan.FromMinutes(5);
        var job = _queue.RunAsync("img2img", 10, () => MockHttpResult.Json(new JsonObject { ["images"] = new JsonArray() }));
        await WaitUntilRunningAsync();

        _queue.Interrupt();
        var answer = await job.WaitAsync(Patience);

        Assert.Equal("""{"images":[]}""", answer.Body);
        Assert.Equal(1, _queue.InterruptCount);
        Assert.True(_queue.Progress()["state"]!["interrupted"]!.GetValue<bool>());
        Assert.Equal(1, _queue.Completed("img2img"));
    }

    [Fact]
    public async Task RunAsync_BoxWentDownDuringTheJob_IsNotCounted()
    {
        var answer = await _queue.RunAsync("txt2img", 1, () =>
        {
            _state.GoDown();
            return MockHttpResult.Null();
        });

        Assert.Equal("null", answer.Body);
        Assert.Equal(0, _queue.Completed("txt2img"));
    }

    [Fact]
    public async Task RunAsync_BoxDownWhenItsTurnComes_AnswersNullWithoutWorking()
    {
        _state.GoDown();
        var worked = false;
        var before = false;

        var answer = await _queue.RunAsync("txt2img", 1, () =>
        {
            worked = true;
            return MockHttpResult.Json(new JsonObject());
        }, before: () =>
        {
            before = true;
            return Task.CompletedTask;
        });

        Assert.Equal(new MockHttpResult(200, "null"), answer);
        Assert.Equal((false, false), (worked, before));
    }

    [Fact]
    public async Task RunAsync_FailRateOne_IsCudaOutOfMemory_AndRunsAfter()
    {
        _options.FailRate = 1;
        var after = false;

        var e = await Assert.ThrowsAsync<MockRouteException>(() => _queue.RunAsync("rembg", 1, MockHttpResult.Null, after: () => after = true));

        Assert.Equal(500, e.Status);
        Assert.Equal("OutOfMemoryError", e.Body["error"]!.GetValue<string>());
        Assert.True(after);
        Assert.Equal(0, _queue.Completed("rembg"));
        Assert.False(_queue.Running);
    }

    [Fact]
    public async Task RunAsync_TwoJobs_RunOneAtATime()
    {
        using var release = new ManualResetEventSlim();
        var first = Task.Run(() => _queue.RunAsync("txt2img", 1, () =>
        {
            release.Wait(Patience);
            return MockHttpResult.Null();
        }));
        await WaitUntilRunningAsync();
        var secondStarted = false;
        var second = Task.Run(() => _queue.RunAsync("img2img", 1, () =>
        {
            secondStarted = true;
            return MockHttpResult.Null();
        }));

        await Task.Delay(100);
        var startedEarly = Volatile.Read(ref secondStarted);
        release.Set();
        await Task.WhenAll(first, second).WaitAsync(Patience);

        Assert.False(startedEarly);
        Assert.Equal((1, 1), (_queue.Completed("txt2img"), _queue.Completed("img2img")));
    }
}
