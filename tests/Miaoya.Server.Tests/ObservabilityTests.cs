using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Miaoya.Fleet;
using Miaoya.MockWebUi;
using Miaoya.Runner.Telemetry;

namespace Miaoya.Server.Tests;

/// <summary>Meters and activity sources are process-wide: these tests run alone, so a scrape or a listener sees one server.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ObservabilityGroup
{
    public const string Name = "Observability";
}

[Collection(ObservabilityGroup.Name)]
public sealed partial class ObservabilityTests
{
    private static string Dashboard => Path.Combine(AppContext.BaseDirectory, "Dashboard", "miaoya-serve.json");

    [Fact]
    public async Task Metrics_need_the_key_and_carry_the_fleet_and_job_metrics_after_a_job_with_a_retry()
    {
        // One box, one attempt per call: the injected 500 fails the inpaint step's first attempt, and the store retries it.
        await using var h = await ServerHarness.StartAsync(boxes: 1, configure: o => o with
        {
            ConfigureFleet = f =>
            {
                f.HealthInterval = TimeSpan.FromMilliseconds(200);
                f.MaxAttempts = 1;
            },
        });
        h.Boxes[0].AddFault(new MockFault("/sdapi/v1/img2img") { Times = 1 });
        // The box has another checkpoint loaded than the recipe's (once a health check has seen it): one model switch.
        using (var box = new HttpClient { BaseAddress = h.Boxes[0].Url })
        using (var option = new StringContent("""{"sd_model_checkpoint": "v1-5-pruned-emaonly.safetensors [6ce0161689]"}""", System.Text.Encoding.UTF8, "application/json"))
        {
            (await box.PostAsync("/sdapi/v1/options", option)).EnsureSuccessStatusCode();
        }

        var fleet = h.Server.Services.GetRequiredService<WebUiFleet>();
        for (var i = 0; i < 100 && fleet.Status()[0].LoadedCheckpoint?.StartsWith("v1-5", StringComparison.Ordinal) != true; i++)
        {
            await Task.Delay(50);
        }

        using var anonymous = new HttpClient { BaseAddress = h.Server.Urls[0] };
        using (var refused = await anonymous.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var id = (await h.SubmitAsync(ServerHarness.Form("v2", null, ("seed", "7")))).GetProperty("id").GetString()!;
        var events = await h.ReadEventsAsync(id);
        Assert.Equal("job_succeeded", events[^1].Name);

        var scrape = await ScrapeUntilAsync(h.Client, h.Server.Urls[0], s => s.Contains("miaoya_jobs_finished_total", StringComparison.Ordinal));
        var samples = Samples(scrape);
        // The fleet's meter: calls by box and outcome (the injected failure counts as the box's), durations, the queue.
        Assert.Contains(samples, s => s.Name == "miaoya_fleet_calls_total" && s.Labels.Contains("box=\"box0\"") && s.Labels.Contains("outcome=\"success\"") && s.Value >= 3);
        Assert.Contains(samples, s => s.Name == "miaoya_fleet_calls_total" && s.Labels.Contains("outcome=\"box_failure\"") && s.Value == 1);
        Assert.Contains(samples, s => s.Name == "miaoya_fleet_call_duration_seconds_count" && s.Labels.Contains("box=\"box0\""));
        Assert.Contains(samples, s => s.Name == "miaoya_fleet_queue_depth" && s.Value == 0);
        Assert.Contains(samples, s => s.Name == "miaoya_fleet_model_switches_total" && s.Labels.Contains("box=\"box0\"") && s.Value >= 1);
        // The jobs' meter: step durations by step and outcome, the retry, the finished job, the store's jobs by state.
        Assert.Contains(samples, s => s.Name == "miaoya_jobs_step_duration_seconds_count" && s.Labels.Contains("step=\"inpaint\"") && s.Labels.Contains("outcome=\"retry\"") && s.Value == 1);
        Assert.Contains(samples, s => s.Name == "miaoya_jobs_step_duration_seconds_count" && s.Labels.Contains("step=\"inpaint\"") && s.Labels.Contains("outcome=\"succeeded\"") && s.Value == 1);
        Assert.Contains(samples, s => s.Name == "miaoya_jobs_step_retries_total" && s.Labels.Contains("step=\"inpaint\"") && s.Value == 1);
        Assert.Contains(samples, s => s.Name == "miaoya_jobs_finished_total" && s.Labels.Contains("state=\"succeeded\"") && s.Value == 1);
        Assert.Contains(samples, s => s.Name == "miaoya_jobs" && s.Labels.Contains("state=\"succeeded\"") && s.Value == 1);
        Assert.Contains(samples, s => s.Name == "miaoya_jobs" && s.Labels.Contains("state=\"queued\"") && s.Value == 0);

        // Every series the sample dashboard queries is in this real scrape, under the name it is exported as.
        var present = samples.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var queried = DashboardMetrics();
        Assert.NotEmpty(queried);
        Assert.All(queried, name => Assert.True(present.Contains(name), $"the dashboard queries {name}, which /metrics does not export; it has: {string.Join(' ', present.Order())}"));
    }

    [Fact]
    public async Task The_metrics_port_serves_metrics_without_the_key_and_nothing_else()
    {
        var port = FreePort();
        await using var h = await ServerHarness.StartAsync(boxes: 1, configure: o => o with { MetricsPort = port });
        var metricsUrl = Assert.Single(h.Server.MetricsUrls);
        Assert.Equal(port, metricsUrl.Port);
        Assert.DoesNotContain(h.Server.Urls, u => u.Port == port);

        using var scraper = new HttpClient { BaseAddress = metricsUrl };
        var scrape = await ScrapeUntilAsync(scraper, metricsUrl, s => s.Contains("miaoya_jobs{", StringComparison.Ordinal));
        Assert.Contains("miaoya_jobs{", scrape, StringComparison.Ordinal);
        // The API is not served there, with or without a key, and the API's own addresses no longer serve /metrics.
        using (var api = await scraper.GetAsync("/v1/jobs"))
        {
            Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v1/jobs"))
        {
            request.Headers.Add("X-Api-Key", ServerHarness.Key);
            using var withKey = await scraper.SendAsync(request);
            Assert.Equal(HttpStatusCode.NotFound, withKey.StatusCode);
        }

        using var onApi = await h.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, onApi.StatusCode);
    }

    [Fact]
    public async Task A_metrics_port_the_api_listens_on_is_refused()
    {
        var port = FreePort();
        var error = await Assert.ThrowsAsync<ServerConfigurationException>(() => ServerHarness.StartAsync(
            boxes: 1, configure: o => o with { Urls = [$"http://127.0.0.1:{port}"], MetricsPort = port }));
        Assert.Contains("--metrics-port", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_job_is_one_trace_a_job_span_whose_step_spans_hold_the_box_call_spans()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is JobTelemetry.ActivitySourceName or FleetTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var h = await ServerHarness.StartAsync(boxes: 2, latency: TimeSpan.FromMilliseconds(50));

        var id = (await h.SubmitAsync(ServerHarness.Form("v2", null, ("seed", "11")))).GetProperty("id").GetString()!;
        Assert.Equal("job_succeeded", (await h.ReadEventsAsync(id))[^1].Name);
        Activity? job = null;
        for (var i = 0; i < 200 && job is null; i++)
        {
            job = spans.FirstOrDefault(s => s.OperationName == "job" && (string?)s.GetTagItem("miaoya.job.id") == id);
            await Task.Delay(50);
        }

        Assert.NotNull(job);
        Assert.Equal(default, job.ParentSpanId);
        Assert.Equal("succeeded", job.GetTagItem("miaoya.job.state"));
        Assert.Equal("v2", job.GetTagItem("miaoya.job.recipe"));
        var trace = spans.Where(s => s.TraceId == job.TraceId).ToList();
        var steps = trace.Where(s => s.Source.Name == JobTelemetry.ActivitySourceName && s.OperationName.StartsWith("step ", StringComparison.Ordinal)).ToList();
        Assert.Equal(["interrogate", "mask", "inpaint", "img2img"], steps.OrderBy(s => s.StartTimeUtc).Select(s => (string?)s.GetTagItem("miaoya.step.name")));
        Assert.All(steps, s =>
        {
            Assert.Equal(job.SpanId, s.ParentSpanId);
            Assert.Equal("succeeded", s.GetTagItem("miaoya.step.outcome"));
            Assert.InRange(s.StartTimeUtc, job.StartTimeUtc, job.StartTimeUtc + job.Duration);
        });

        // Every box call of the job is a child of one of its steps (the parent held across the engine's and the fleet's
        // asynchronous hand-offs), and the rendering steps made theirs on a named box.
        var calls = trace.Where(s => s.Source.Name == FleetTelemetry.ActivitySourceName).ToList();
        Assert.NotEmpty(calls);
        var stepIds = steps.ToDictionary(s => s.SpanId, s => (string)s.GetTagItem("miaoya.step.name")!);
        Assert.All(calls, c =>
        {
            Assert.True(stepIds.ContainsKey(c.ParentSpanId), $"{c.OperationName} is not under a step span");
            Assert.Equal("success", c.GetTagItem("miaoya.call.outcome"));
            Assert.Matches("^box[01]$", (string)c.GetTagItem("miaoya.box")!);
            Assert.StartsWith("http://127.0.0.1:", (string)c.GetTagItem("miaoya.box.endpoint")!, StringComparison.Ordinal);
        });
        foreach (var rendering in new[] { "inpaint", "img2img" })
        {
            Assert.Contains(calls, c => stepIds[c.ParentSpanId] == rendering && c.GetTagItem("miaoya.call.purpose") as string == rendering);
        }
    }

    /// <summary>Metric names a dashboard expression uses (the exported series: family names plus _bucket/_count/_sum/_total).</summary>
    private static IReadOnlyList<string> DashboardMetrics()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Dashboard));
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var panel in document.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }

            foreach (var target in targets.EnumerateArray())
            {
                var expr = target.GetProperty("expr").GetString()!;
                var found = MetricName().Matches(expr);
                Assert.True(found.Count > 0, $"no series selector in {expr}");
                names.UnionWith(found.Select(m => m.Value));
            }
        }

        return [.. names];
    }

    private static async Task<string> ScrapeUntilAsync(HttpClient client, Uri baseUrl, Func<string, bool> done)
    {
        var text = "";
        for (var i = 0; i < 100; i++)
        {
            using var response = await client.GetAsync(new Uri(baseUrl, "metrics"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            text = await response.Content.ReadAsStringAsync();
            if (done(text))
            {
                return text;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"/metrics never had what the test waits for:\n{text}");
        return text;
    }

    private static List<(string Name, string Labels, double Value)> Samples(string scrape) =>
        [.. scrape.Split('\n')
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => SampleLine().Match(l))
            .Where(m => m.Success)
            .Select(m => (m.Groups["name"].Value, m.Groups["labels"].Value, double.Parse(m.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture)))];

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{[^}]*\})?\s+(?<value>\S+)")]
    private static partial Regex SampleLine();

    /// <summary>A series name in a selector (the dashboard writes each as <c>name{job=~"$job",...}</c>).</summary>
    [GeneratedRegex(@"\b[a-zA-Z_:][a-zA-Z0-9_:]*(?=\{)")]
    private static partial Regex MetricName();
}
