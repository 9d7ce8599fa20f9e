using System.Net.Http.Json;
using System.Text.Json;
using Miaoya.Fleet;
using Miaoya.MockWebUi;
using Miaoya.Runner;

namespace Miaoya.Server.Tests;

/// <summary>Stopping the service mid-step hands the step back; started again on the same store, the job completes.</summary>
public sealed class RestartTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-restart-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Stop_MidStep_HandsItBack_AndTheNextStartFinishesTheJob()
    {
        // The first instance's box takes 10 s per call unless interrupted; the second instance has a fast box.
        using var box = MockWebUiServer.Start(new MockWebUiOptions { Latency = TimeSpan.FromSeconds(10) });
        using var fastBox = MockWebUiServer.Start();
        var options = new ServerOptions
        {
            Urls = ["http://127.0.0.1:0"],
            ApiKey = ServerHarness.Key,
            Boxes = [new BoxOptions { Name = "box0", Url = box.Url }],
            ConfigureFleet = f => f.HealthInterval = TimeSpan.FromMilliseconds(200),
            Runner = new JobRunnerOptions
            {
                JobsDirectory = Path.Combine(_folder, "jobs"),
                OwnershipCheckInterval = TimeSpan.FromMilliseconds(500),
                PollInterval = TimeSpan.FromMilliseconds(50),
            },
        };

        string id;
        await using (var first = await MiaoyaServer.StartAsync(options))
        {
            using var client = Client(first);
            using var form = ServerHarness.Form("v1-face", null, ("seed", "11"));
            using var submitted = await client.PostAsync("/v1/jobs", form);
            id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            await ServerHarness.ReadEventsAsync(client, id, until: e => e.Name == "step_progress" && e.Data.GetProperty("step").GetString() == "inpaint"
                && e.Data.GetProperty("data").GetProperty("box").ValueKind == JsonValueKind.String);

            using (var boxClient = new HttpClient { BaseAddress = box.Url })
            {
                // The box is rendering the inpaint call.
                while ((await boxClient.GetFromJsonAsync<JsonElement>("sdapi/v1/progress")).GetProperty("state").GetProperty("job_count").GetInt32() == 0)
                {
                    await Task.Delay(20);
                }
            }

            await first.StopAsync();
            Assert.True(box.InterruptCount >= 1, "stopping interrupted the box");
        }

        // The step went back to pending without using up an attempt; the earlier steps stay done.
        await using (var store = await Miaoya.Jobs.JobStore.OpenAsync(Path.Combine(options.Runner.JobsDirectory, "jobs.db")))
        {
            var job = (await store.GetJobAsync(id))!;
            var inpaint = job.Steps.Single(s => s.Name == "inpaint");
            Assert.Equal(Miaoya.Jobs.StepState.Pending, inpaint.State);
            Assert.Equal(0, inpaint.Attempts);
            Assert.All(job.Steps.Where(s => s.Index < inpaint.Index), s => Assert.Equal(Miaoya.Jobs.StepState.Succeeded, s.State));
        }

        await using (var second = await MiaoyaServer.StartAsync(options with { Boxes = [new BoxOptions { Name = "box1", Url = fastBox.Url }] }))
        {
            using var client = Client(second);
            var events = await ServerHarness.ReadEventsAsync(client, id);
            Assert.Equal("job_succeeded", events[^1].Name);
            var done = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");
            Assert.Equal("succeeded", done.GetProperty("state").GetString());
            Assert.All(done.GetProperty("steps").EnumerateArray(), s => Assert.Equal(1, s.GetProperty("attempts").GetInt32()));
            Assert.Equal("box1", done.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "inpaint").GetProperty("box").GetString());
            await second.StopAsync();
        }
    }

    private static HttpClient Client(MiaoyaServer server)
    {
        var client = new HttpClient { BaseAddress = server.Urls[0] };
        client.DefaultRequestHeaders.Add("X-Api-Key", ServerHarness.Key);
        return client;
    }
}
