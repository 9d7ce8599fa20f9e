using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Miaoya.Fleet;
using Miaoya.Jobs;
using Miaoya.MockWebUi;
using Miaoya.Pipeline;
using Miaoya.Runner.Engine;

namespace Miaoya.Runner.Tests;

/// <summary>Mock boxes, a fleet over them, a SQLite job store, a submitter and a job engine, wired as the service wires them.</summary>
internal sealed class RunnerHarness : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private RunnerHarness(IReadOnlyList<MockWebUiServer> servers, ServiceProvider provider, WebUiFleet? fleet, IJobStore store, string folder, JobRunnerOptions options)
    {
        StoreLocation = Path.Combine(folder, "jobs.db");
        Servers = servers;
        _provider = provider;
        Fleet = fleet;
        Store = store;
        Folder = folder;
        Options = options;
        Submitter = new JobSubmitter(store, options);
        Pipeline = provider.GetRequiredService<PortraitPipeline>();
        Pipeline.ProgressInterval = TimeSpan.FromMilliseconds(100);
        Engine = NewEngine();
    }

    public IReadOnlyList<MockWebUiServer> Servers { get; }

    /// <summary>The fleet; null when the harness runs on one box without it (<c>fleet: false</c>).</summary>
    public WebUiFleet? Fleet { get; }

    public PortraitPipeline Pipeline { get; }

    public IJobStore Store { get; private set; }

    public string StoreLocation { get; }

    public JobSubmitter Submitter { get; private set; }

    /// <summary>The job engine of this "instance" (attached by <see cref="StartAsync"/>, so submissions are scheduled); runs once.</summary>
    public JobEngine Engine { get; private set; }

    public string Folder { get; }

    public JobRunnerOptions Options { get; }

    public static string Astronaut => Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut.png");

    public static async Task<RunnerHarness> StartAsync(
        int boxes = 2, TimeSpan latency = default, Action<FleetOptions>? fleet = null, int slots = 6, bool useFleet = true, Func<JobRunnerOptions, JobRunnerOptions>? options = null)
    {
        var servers = Enumerable.Range(0, boxes).Select(_ => MockWebUiServer.Start(new MockWebUiOptions { Latency = latency })).ToArray();
        var services = new ServiceCollection();
        services.AddLogging();
        if (useFleet)
        {
            services.AddWebUiFleet(o =>
            {
                for (var i = 0; i < servers.Length; i++)
                {
                    o.Boxes.Add(new BoxOptions { Name = $"box{i}", Url = servers[i].Url });
                }

                o.HealthInterval = TimeSpan.FromMilliseconds(200);
                fleet?.Invoke(o);
            });
        }

        services.AddPortraitPipeline(o =>
        {
            o.ControlRetryDelay = TimeSpan.FromMilliseconds(10);
            o.BaseUrl = servers[0].Url;
        });
        var provider = services.BuildServiceProvider();
        var folder = Path.Combine(Path.GetTempPath(), "miaoya-runner-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var store = await JobStore.OpenAsync(Path.Combine(folder, "jobs.db"));
        var runnerOptions = new JobRunnerOptions
        {
            JobsDirectory = Path.Combine(folder, "jobs"),
            Slots = slots,
            OwnershipCheckInterval = TimeSpan.FromMilliseconds(500),
            PollInterval = TimeSpan.FromMilliseconds(50),
        };
        runnerOptions = options?.Invoke(runnerOptions) ?? runnerOptions;
        var fleetInstance = useFleet ? provider.GetRequiredService<WebUiFleet>() : null;
        if (fleetInstance is not null)
        {
            await fleetInstance.StartAsync();
        }

        var harness = new RunnerHarness(servers, provider, fleetInstance, store, folder, runnerOptions);
        await harness.Engine.AttachAsync();
        return harness;
    }

    /// <summary>
    /// The instance restarted: the engine stopped and disposed, the store opened again, a new engine attached to it
    /// (on SQLite one engine runs a file's jobs at a time).
    /// </summary>
    public async Task RestartAsync()
    {
        await Engine.DisposeAsync();
        await Store.DisposeAsync();
        Store = await JobStore.OpenAsync(StoreLocation);
        Submitter = new JobSubmitter(Store, Options);
        Engine = NewEngine();
        await Engine.AttachAsync();
    }

    private JobEngine NewEngine() => new(Store, StoreLocation, Pipeline, Options, NullLoggerFactory.Instance, boxes: Fleet);

    /// <summary>Waits until <paramref name="condition"/> holds for the job (hang guard: one minute).</summary>
    public async Task<JobRecord> WaitForAsync(string id, Func<JobRecord, bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (true)
        {
            var job = await Store.GetJobAsync(id, timeout.Token) ?? throw new InvalidOperationException($"job {id} is gone");
            if (condition(job))
            {
                return job;
            }

            await Task.Delay(50, timeout.Token);
        }
    }

    public int GenerationCalls(int box) => Servers[box].WireMock.LogEntries.Count(e => e.RequestMessage!.Path is "/sdapi/v1/img2img");

    public static JobSubmission Submission(string recipe = "v2", string lora = "miaoya_demo_face:0.9") => new()
    {
        Recipe = recipe,
        TemplatePath = Astronaut,
        Lora = lora,
        Seed = 1234,
    };

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        await _provider.DisposeAsync();
        await Store.DisposeAsync();
        foreach (var server in Servers)
        {
            server.Dispose();
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
