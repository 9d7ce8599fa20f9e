using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.Server.Tests;

/// <summary>POST /v1/jobs with <c>template_name</c>: a template of the server's library instead of an uploaded photo.</summary>
public sealed class TemplateJobTests : IDisposable
{
    private readonly string _library = Path.Combine(Path.GetTempPath(), "miaoya-server-templates-" + Guid.NewGuid().ToString("N"));

    public TemplateJobTests()
    {
        Directory.CreateDirectory(_library);
        File.Copy(ServerHarness.Astronaut, Path.Combine(_library, "styled.png"));
        File.WriteAllText(Path.Combine(_library, "styled.yaml"), """
            title: Styled astronaut
            people: 1
            model_family: sd15
            recipe: v1-face
            overrides: [inpaint.denoising_strength=0.5]
            style_lora: { name: add_detail, weight: 0.7 }
            prompt: { positive_add: "vintage film look", negative_add: "cartoon" }
            licence: { name: Public domain, source: "https://example.org/a", author: NASA }
            """);
    }

    private Task<ServerHarness> StartAsync() => ServerHarness.StartAsync(boxes: 1, configure: o => o with { TemplatesDirectory = _library });

    private static StringContent Json(Dictionary<string, object?> fields) => new(JsonSerializer.Serialize(fields), Encoding.UTF8, "application/json");

    [Fact]
    public async Task TemplateName_WithoutRecipe_RunsTheTemplatesRecipe_AndTheBoxGetsItsStyleLoraAndPromptAdditions()
    {
        await using var h = await StartAsync();

        var queued = await h.SubmitAsync(Json(new() { ["template_name"] = "styled", ["lora"] = "miaoya_demo_face", ["overrides"] = new[] { "inpaint.steps=12" } }));
        var id = queued.GetProperty("id").GetString()!;
        await h.ReadEventsAsync(id);
        var job = JsonDocument.Parse(await h.Client.GetStringAsync($"/v1/jobs/{id}")).RootElement;

        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Equal("v1-face", job.GetProperty("recipe").GetString());
        var inpaint = JsonNode.Parse(h.Boxes[0].WireMock.LogEntries.Last(e => e.RequestMessage?.Path == "/sdapi/v1/img2img").RequestMessage!.Body!)!;
        Assert.EndsWith("vintage film look, <lora:add_detail:0.7>", inpaint["prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.EndsWith(", cartoon", inpaint["negative_prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0.5, inpaint["denoising_strength"]!.GetValue<double>());
        Assert.Equal(12, inpaint["steps"]!.GetValue<int>());
    }

    [Fact]
    public async Task TemplateName_Multipart_Works_AndBadNamesAreFieldProblems()
    {
        await using var h = await StartAsync();

        using (var form = new MultipartFormDataContent { { new StringContent("styled"), "template_name" }, { new StringContent("v1-face"), "recipe" }, { new StringContent("miaoya_demo_face"), "lora" } })
        {
            var queued = await h.SubmitAsync(form);
            Assert.Equal("queued", queued.GetProperty("state").GetString());
        }

        var unknown = await RefusedAsync(h, Json(new() { ["template_name"] = "stlyed", ["lora"] = "miaoya_demo_face" }));
        Assert.Contains("did you mean 'styled'?", unknown, StringComparison.Ordinal);
        Assert.DoesNotContain(_library, unknown, StringComparison.Ordinal);

        var both = await RefusedAsync(h, Json(new() { ["template_name"] = "styled", ["template"] = "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes(ServerHarness.Astronaut)), ["lora"] = "x" }));
        Assert.Contains("not both", both, StringComparison.Ordinal);
    }

    private static async Task<string> RefusedAsync(ServerHarness h, HttpContent content)
    {
        using (content)
        using (var response = await h.Client.PostAsync("/v1/jobs", content))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {body}");
            Assert.Contains("template_name", body, StringComparison.Ordinal);
            return body;
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_library, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
