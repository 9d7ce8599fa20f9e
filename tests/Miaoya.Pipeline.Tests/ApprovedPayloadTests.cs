using System.Text.Json.Nodes;
using Miaoya.MockWebUi;
using Miaoya.WebUi.Tests;

namespace Miaoya.Pipeline.Tests;

/// <summary>
/// The exact generation requests each recipe sends, per WebUI version, as recorded in the manifest (images as file
/// references). Hashes are blanked: masks depend on float maths that may differ in the last bit between CPUs.
/// </summary>
public sealed class ApprovedPayloadTests
{
    [Theory]
    [InlineData("v1-face", MockWebUiProfile.WebUi110)]
    [InlineData("v1-face-neck", MockWebUiProfile.WebUi110)]
    [InlineData("v2", MockWebUiProfile.WebUi110)]
    [InlineData("v2", MockWebUiProfile.WebUi18)]
    public async Task Requests_MatchTheApprovedFiles(string recipe, MockWebUiProfile profile)
    {
        using var h = new PipelineHarness(profile);

        var result = await h.Pipeline.RunAsync(h.Request(recipe, overrides: recipe == "v2" ? ["img2img.skip_if_delta_e_below=0"] : null));

        var requests = new JsonObject();
        foreach (var step in result.Manifest.Steps.Where(s => s.Request is not null))
        {
            requests[step.Name] = Blank(step.Request!.DeepClone());
        }

        Approvals.Verify($"{recipe}.{(profile == MockWebUiProfile.WebUi18 ? "webui-1.8" : "webui-1.10")}", requests.ToJsonString());
    }

    private static JsonNode Blank(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToArray())
                {
                    if (key == "sha256")
                    {
                        obj[key] = "…";
                    }
                    else if (value is not null)
                    {
                        Blank(value);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        Blank(item);
                    }
                }

                break;
        }

        return node;
    }
}
