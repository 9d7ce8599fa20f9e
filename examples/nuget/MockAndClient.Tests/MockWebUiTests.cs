using Microsoft.Extensions.DependencyInjection;
using Miaoya.MockWebUi;
using Miaoya.WebUi;
using Miaoya.WebUi.Dto;
using Xunit;

namespace MockAndClient.Tests;

/// <summary>What another project does with the two packages: start the mock in-process and call it through the client.</summary>
public sealed class MockWebUiTests
{
    [Fact]
    public async Task The_client_probes_the_mock_and_renders_an_image()
    {
        using var mock = MockWebUiServer.Start(new MockWebUiOptions { Port = 0 });
        await using var services = new ServiceCollection().AddWebUiClient(o => o.BaseUrl = mock.Url).BuildServiceProvider();
        var client = services.GetRequiredService<WebUiClient>();

        var box = await client.ProbeAsync();
        var answer = await client.Txt2ImgAsync(new Txt2ImgRequest { Prompt = "a portrait", Steps = 2, Width = 64, Height = 64, Seed = 7 });

        Assert.Equal(WebUiBackend.A1111, box.Backend);
        Assert.Contains(box.Checkpoints, c => c.ModelName == "chilloutmix_NiPrunedFp32Fix");
        var image = Assert.Single(answer.GeneratedImages);
        Assert.True(image.Bytes.Length > 0);
        Assert.Equal(1, mock.RenderCounts.Started);
    }

    [Fact]
    public async Task An_injected_500_reaches_the_client_as_a_typed_error_that_names_the_call()
    {
        using var mock = MockWebUiServer.Start(new MockWebUiOptions { Port = 0 });
        mock.AddFault(new MockFault("/sdapi/v1/txt2img") { StatusCode = 500, Times = 1 });
        await using var services = new ServiceCollection().AddWebUiClient(o => o.BaseUrl = mock.Url).BuildServiceProvider();
        var client = services.GetRequiredService<WebUiClient>();

        var error = await Assert.ThrowsAsync<WebUiApiException>(() => client.Txt2ImgAsync(new Txt2ImgRequest { Steps = 2, Width = 64, Height = 64 }));

        Assert.Equal(500, error.StatusCode);
        Assert.Equal("POST /sdapi/v1/txt2img", error.Endpoint);
        Assert.Equal(FailureKind.Box, Failures.Classify(error));
    }
}
