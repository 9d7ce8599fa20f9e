using Microsoft.Extensions.DependencyInjection;
using Miaoya.MockWebUi;
using Miaoya.Pipeline;
using Miaoya.Recipes;

namespace Miaoya.Fleet.Tests;

/// <summary>Whole V2 runs through the pipeline over a fleet: each remote call is placed on its own, and retried elsewhere.</summary>
public sealed class PipelineThroughFleetTests
{
    [Fact]
    public async Task V2_runs_complete_when_one_box_drops_every_img2img_connection()
    {
        var servers = Enumerable.Range(0, 2).Select(_ => MockWebUiServer.Start(new MockWebUiOptions { Latency = TimeSpan.FromMilliseconds(20) })).ToArray();
        var folder = Directory.CreateTempSubdirectory("miaoya-fleet-pipeline-").FullName;
        try
        {
            servers[0].AddFault(new MockFault("/sdapi/v1/img2img") { Kind = MockFaultKind.DropConnection, Latency = TimeSpan.FromMilliseconds(50) });
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddWebUiFleet(o =>
            {
                for (var i = 0; i < servers.Length; i++)
                {
                    o.Boxes.Add(new BoxOptions { Name = $"box{i}", Url = servers[i].Url });
                }

                o.HealthInterval = TimeSpan.FromMilliseconds(100);
            });
            services.AddPortraitPipeline(o => o.ControlRetries = 0);
            await using var provider = services.BuildServiceProvider();
            await provider.GetRequiredService<WebUiFleet>().StartAsync();
            var pipeline = provider.GetRequiredService<PortraitPipeline>();

            RunRequest Request(int i) => new()
            {
                Recipe = RecipeLoader.LoadBuiltIn("v2", ["img2img.skip_if_delta_e_below=0"]),
                Overrides = ["img2img.skip_if_delta_e_below=0"],
                TemplatePath = Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut.png"),
                Lora = LoraChoice.Parse("miaoya_demo_face:0.9"),
                Seed = 1234,
                OutputDirectory = Path.Combine(folder, $"run{i}"),
            };

            var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => pipeline.RunAsync(Request(i)))).WaitAsync(FleetHarness.Guard);

            foreach (var result in results)
            {
                Assert.True(File.Exists(result.FinalImage));
                foreach (var step in result.Manifest.Steps.Where(s => s.Name is "inpaint" or "img2img"))
                {
                    Assert.Equal("box1", step.Box);
                    Assert.False(step.Request!["override_settings_restore_afterwards"]!.GetValue<bool>());
                }
            }

            Assert.Equal((0, 4), (servers[0].CompletedJobs("img2img"), servers[1].CompletedJobs("img2img")));
            Assert.True(provider.GetRequiredService<WebUiFleet>().Status()[0].Failures >= 1);
        }
        finally
        {
            foreach (var server in servers)
            {
                server.Dispose();
            }

            Directory.Delete(folder, recursive: true);
        }
    }
}
