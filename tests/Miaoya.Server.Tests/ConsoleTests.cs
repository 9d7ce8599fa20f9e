using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Miaoya.Recipes;

namespace Miaoya.Server.Tests;

/// <summary>
/// The browser console's files over plain HTTP: open without the key, a strict Content-Security-Policy, nothing inline,
/// nothing from another host; and <c>GET /v1/recipes</c>, which fills its recipe list.
/// </summary>
public sealed partial class ConsoleTests
{
    private const string Policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

    [Fact]
    public async Task Console_IsServedWithoutTheKey_UnderAStrictPolicy_WithNothingInlineOrFromElsewhere()
    {
        // Arrange
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        using var anonymous = new HttpClient { BaseAddress = h.Server.Urls[0] };

        // Act
        using var page = await anonymous.GetAsync("/");

        // Assert: the page, with its policy.
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Policy, page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        var html = await page.Content.ReadAsStringAsync();

        // No inline script, no inline style, no event-handler attribute: the policy would block them anyway.
        Assert.DoesNotMatch(InlineScript(), html);
        Assert.DoesNotMatch(InlineStyleOrHandler(), html);
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);

        // Every asset is a relative URL on this server, served without the key under the same policy.
        var assets = AssetReference().Matches(html).Select(m => m.Groups["url"].Value).Where(u => !u.StartsWith("docs/", StringComparison.Ordinal)).ToList();
        Assert.Equal(["console/icon.svg", "console/console.css", "console/console.js"], assets);
        foreach (var asset in assets)
        {
            using var response = await anonymous.GetAsync(asset);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{asset}: {response.StatusCode}");
            Assert.Equal(Policy, response.Headers.GetValues("Content-Security-Policy").Single());
            var text = await response.Content.ReadAsStringAsync();
            Assert.NotEmpty(text);
            // Nothing from another host (the SVG's namespace is a name, not a request).
            Assert.DoesNotMatch(ExternalUrl(), text.Replace("xmlns=\"http://www.w3.org/2000/svg\"", "", StringComparison.Ordinal));
        }

        Assert.Equal("text/javascript", (await anonymous.GetAsync("console/console.js")).Content.Headers.ContentType?.MediaType);
        var script = await anonymous.GetStringAsync("console/console.js");
        // The key goes in a header, never in a URL, and nothing is written as HTML (no injection through job fields).
        Assert.Contains("headers['X-Api-Key'] = k", script, StringComparison.Ordinal);
        Assert.DoesNotContain("innerHTML", script, StringComparison.Ordinal);
        Assert.DoesNotContain("api_key=", script, StringComparison.OrdinalIgnoreCase);

        using var head = new HttpRequestMessage(HttpMethod.Head, "/");
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(head)).StatusCode);

        // Only reading the console is open: unknown files are 404, anything else still needs the key.
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/console/nothing.js")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/console/index.html")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/", new StringContent(""))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/recipes")).StatusCode);

        // The console is not part of the API's document.
        var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json")).RootElement;
        Assert.DoesNotContain(document.GetProperty("paths").EnumerateObject(), p => p.Name == "/" || p.Name.StartsWith("/console", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Recipes_ListsTheBuiltInOnesAndTheFolders_WithWhetherALoraIsNeeded_AndABrokenFileWithItsProblem()
    {
        // Arrange: a recipe folder with a copy of v1-face under another name, one that replaces the built-in v2, and a broken file.
        var folder = Directory.CreateTempSubdirectory("miaoya-recipes-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "studio.yaml"), RecipeLoader.ReadBuiltIn("v1-face"));
            await File.WriteAllTextAsync(Path.Combine(folder, "v2.yml"), RecipeLoader.ReadBuiltIn("v2"));
            await File.WriteAllTextAsync(Path.Combine(folder, "broken.yaml"), "name: broken\npipeline: v9\n");
            await using var h = await ServerHarness.StartAsync(boxes: 1, configure: o => o with { Runner = o.Runner with { RecipeDirectory = folder } });

            // Act
            var recipes = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/recipes")).RootElement.GetProperty("recipes").EnumerateArray()
                .ToDictionary(r => r.GetProperty("name").GetString()!);

            // Assert
            Assert.Equal(RecipeLoader.BuiltInNames.Append("broken").Append("studio").Order(StringComparer.Ordinal), recipes.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("built_in", recipes["v1-face"].GetProperty("source").GetString());
            Assert.True(recipes["v1-face"].GetProperty("needs_lora").GetBoolean());
            Assert.False(recipes["v4-faceid"].GetProperty("needs_lora").GetBoolean());
            Assert.Equal(JsonValueKind.Null, recipes["v1-face"].GetProperty("problem").ValueKind);
            Assert.Equal("folder", recipes["studio"].GetProperty("source").GetString());
            Assert.Equal("folder", recipes["v2"].GetProperty("source").GetString());
            Assert.Equal(JsonValueKind.String, recipes["studio"].GetProperty("base_model").ValueKind);
            Assert.Equal("folder", recipes["broken"].GetProperty("source").GetString());
            Assert.Equal(JsonValueKind.Null, recipes["broken"].GetProperty("needs_lora").ValueKind);
            var problem = recipes["broken"].GetProperty("problem").GetString()!;
            Assert.StartsWith("broken.yaml:", problem, StringComparison.Ordinal);
            Assert.DoesNotContain(folder, problem, StringComparison.Ordinal);
            Assert.Contains("base_model: required field is missing", problem, StringComparison.Ordinal);

            // A listed name is one a submission may use.
            using var form = ServerHarness.Form("studio", null);
            await h.SubmitAsync(form);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [GeneratedRegex("""<script(?![^>]*\bsrc=)[^>]*>""", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [GeneratedRegex("""\s(style|on[a-z]+)\s*=""", RegexOptions.IgnoreCase)]
    private static partial Regex InlineStyleOrHandler();

    [GeneratedRegex("""(?:src|href)="(?<url>[^"]+)" """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex AssetReference();

    [GeneratedRegex("""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalUrl();
}
