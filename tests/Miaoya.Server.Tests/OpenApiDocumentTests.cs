using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Miaoya.Server.Tests;

/// <summary>
/// The OpenAPI document says what the server really sends and needs: its required lists and nullable types are checked
/// against real responses and real submissions of the running server, and <c>/docs</c> serves Swagger UI from local assets.
/// </summary>
public sealed partial class OpenApiDocumentTests
{
    /// <summary>Set by .ci/run: the document is written there and linted with Redocly (.ci/lint/lint.mjs --openapi FILE).</summary>
    public const string OutputVariable = "MIAOYA_OPENAPI_OUT";

    [Fact]
    public async Task Document_RequiredAndNullable_AreWhatTheServerSendsAndNeeds()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        var text = await h.Client.GetStringAsync("/openapi/v1.json");
        if (Environment.GetEnvironmentVariable(OutputVariable) is { Length: > 0 } output)
        {
            File.WriteAllText(output, text);
        }

        var document = JsonDocument.Parse(text).RootElement;
        var schemas = document.GetProperty("components").GetProperty("schemas");

        // Responses: every field of a job, step and output is always sent (null when not known), so all are required;
        // those that can be null say so in their type. JobListView.next is left out on the last page.
        Assert.Equal(
            ["id", "kind", "state", "recipe", "recipe_inline", "pipeline", "base_model", "lora", "identity", "template", "seed", "overrides", "idphoto", "people", "error",
                "created_at", "updated_at", "eta_s", "steps", "outputs", "final", "events"],
            Required(schemas.GetProperty("JobView")));
        Assert.Equal(
            ["index", "name", "state", "attempts", "started_at", "finished_at", "duration_s", "box", "error", "next_attempt_at", "outputs"],
            Required(schemas.GetProperty("StepView")));
        Assert.Equal(["file", "sha256", "url"], Required(schemas.GetProperty("OutputView")));
        Assert.Equal(["jobs"], Required(schemas.GetProperty("JobListView")));
        Assert.Equal(["string"], Types(schemas.GetProperty("JobListView").GetProperty("properties").GetProperty("next")));
        Assert.Equal(["null", "string"], Types(schemas.GetProperty("JobView").GetProperty("properties").GetProperty("recipe")));
        Assert.Equal(["string"], Types(schemas.GetProperty("JobView").GetProperty("properties").GetProperty("id")));

        // Submissions: template and recipe or recipe_yaml, or template_name (a library template, which may suggest the
        // recipe); everything else may be left out (lora is refused by the server when the recipe has no identity section,
        // which a schema cannot say).
        var content = document.GetProperty("paths").GetProperty("/v1/jobs").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        foreach (var mediaType in new[] { "multipart/form-data", "application/json" })
        {
            var schema = Resolve(document, content.GetProperty(mediaType).GetProperty("schema"));
            Assert.Empty(Required(schema));
            Assert.Equal(["template recipe", "template recipe_yaml", "template_name"], schema.GetProperty("anyOf").EnumerateArray().Select(s => string.Join(' ', Required(s))));
            Assert.Equal(
                mediaType == "application/json"
                    ? ["template", "template_name", "face", "faces", "recipe", "recipe_yaml", "lora", "trigger", "identity", "seed", "overrides", "face_index", "candidates", "people"]
                    : ["template", "template_name", "face", "recipe", "recipe_yaml", "lora", "trigger", "identity", "seed", "overrides", "face_index", "candidates", "people"],
                schema.GetProperty("properties").EnumerateObject().Select(p => p.Name));
            var candidates = schema.GetProperty("properties").GetProperty("candidates");
            Assert.Equal((1, 16), (candidates.GetProperty("minimum").GetInt32(), candidates.GetProperty("maximum").GetInt32()));
        }

        // Several face photos: repeated file fields, or a JSON array of images, at most 8.
        var formFaces = Resolve(document, content.GetProperty("multipart/form-data").GetProperty("schema")).GetProperty("properties").GetProperty("face");
        Assert.Contains("array", Types(formFaces));
        Assert.Equal("binary", formFaces.GetProperty("items").GetProperty("format").GetString());
        Assert.Equal(8, formFaces.GetProperty("maxItems").GetInt32());

        var json = Resolve(document, content.GetProperty("application/json").GetProperty("schema")).GetProperty("properties");
        Assert.Equal(["array", "null", "string"], Types(json.GetProperty("trigger")).Order());
        Assert.Equal(["array", "null", "string"], Types(json.GetProperty("overrides")).Order());
        Assert.Equal(["integer", "null"], Types(json.GetProperty("seed")).Order());
        Assert.Equal(["array", "null"], Types(json.GetProperty("faces")).Order());
        Assert.Equal(8, json.GetProperty("faces").GetProperty("maxItems").GetInt32());

        // Several people: a JSON list of {face_index, lora, lora_weight, trigger, faces}; in multipart the list as text and each
        // person's photos as file fields people[N].faces.
        Assert.Equal(8, json.GetProperty("people").GetProperty("maxItems").GetInt32());
        var person = Resolve(document, json.GetProperty("people").GetProperty("items"));
        Assert.Equal(["face_index", "lora", "lora_weight", "trigger", "faces"], person.GetProperty("properties").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["array", "null", "string"], Types(person.GetProperty("properties").GetProperty("trigger")).Order());
        Assert.Equal(["face_index"], Required(person));
        Assert.Equal((0.0, 2.0), (person.GetProperty("properties").GetProperty("lora_weight").GetProperty("minimum").GetDouble(), person.GetProperty("properties").GetProperty("lora_weight").GetProperty("maximum").GetDouble()));
        var formSchema = Resolve(document, content.GetProperty("multipart/form-data").GetProperty("schema"));
        Assert.Contains("string", Types(formSchema.GetProperty("properties").GetProperty("people")));
        var personFiles = formSchema.GetProperty("patternProperties").EnumerateObject().Single();
        Assert.Matches(personFiles.Name, "people[3].faces");
        Assert.Equal("binary", personFiles.Value.GetProperty("items").GetProperty("format").GetString());

        // No number is said to be a string (the server neither writes nor reads numbers as strings).
        Assert.DoesNotContain(Descendants(document), s => Types(s) is var t && t.Contains("string") && (t.Contains("integer") || t.Contains("number")));

        // /healthz needs no key; every other operation says it may answer 401.
        var paths = document.GetProperty("paths");
        Assert.Equal(0, paths.GetProperty("/healthz").GetProperty("get").GetProperty("security").GetArrayLength());
        foreach (var path in paths.EnumerateObject().Where(p => p.Name != "/healthz"))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                Assert.True(operation.Value.GetProperty("responses").TryGetProperty("401", out _), $"{operation.Name} {path.Name} has no 401");
            }
        }

        Assert.All(document.GetProperty("servers").EnumerateArray(), s => Assert.False(s.GetProperty("url").GetString()!.EndsWith('/')));

        // The smallest JSON submission the document allows is accepted, with a trigger as one string and a null seed...
        var template = "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes(ServerHarness.Astronaut));
        var queued = await h.SubmitAsync(Json(new() { ["template"] = template, ["lora"] = "miaoya_demo_face", ["recipe"] = "v1-face", ["trigger"] = "mxface, photo", ["seed"] = null }));
        // ... and leaving out any field it requires is refused, naming that field.
        await AssertRefusedAsync(h, Json(new() { ["lora"] = "miaoya_demo_face", ["recipe"] = "v1-face" }), "template");
        await AssertRefusedAsync(h, Json(new() { ["template"] = template, ["recipe"] = "v1-face" }), "lora");
        await AssertRefusedAsync(h, Json(new() { ["template"] = template, ["lora"] = "miaoya_demo_face" }), "recipe");
        await AssertRefusedAsync(h, ServerHarness.Form(recipe: null, template: File.ReadAllBytes(ServerHarness.Astronaut)), "recipe");

        // Real responses match the document: a queued job (nulls: no error, no final, steps not started), a finished one,
        // a page with a next cursor and the last page without it.
        var jobView = schemas.GetProperty("JobView");
        Validate(document, jobView, queued, "202");
        Assert.Equal(JsonValueKind.Null, queued.GetProperty("final").ValueKind);
        var id = queued.GetProperty("id").GetString()!;
        var events = await h.ReadEventsAsync(id);
        Assert.Equal("job_succeeded", events[^1].Name);
        var finished = JsonDocument.Parse(await h.Client.GetStringAsync($"/v1/jobs/{id}")).RootElement;
        Validate(document, jobView, finished, "GET job");
        Assert.Equal(JsonValueKind.String, finished.GetProperty("final").ValueKind);

        using var second = ServerHarness.Form("v1-face", null);
        await h.SubmitAsync(second);
        var page = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/jobs?limit=1")).RootElement;
        Assert.True(page.TryGetProperty("next", out _));
        Validate(document, schemas.GetProperty("JobListView"), page, "first page");
        var last = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/jobs?limit=1&after=" + page.GetProperty("next").GetString())).RootElement;
        Assert.False(last.TryGetProperty("next", out _));
        Validate(document, schemas.GetProperty("JobListView"), last, "last page");
        Validate(document, schemas.GetProperty("BackendsView"), JsonDocument.Parse(await h.Client.GetStringAsync("/v1/backends")).RootElement, "backends");
        Validate(document, schemas.GetProperty("RecipeListView"), JsonDocument.Parse(await h.Client.GetStringAsync("/v1/recipes")).RootElement, "recipes");
        Assert.Equal(["name", "source", "description", "base_model", "needs_lora", "problem"], Required(schemas.GetProperty("RecipeView")));

        // ID photos: the form's required fields and names, a queued and a finished ID-photo job, a verdict and the specs.
        var idPhotoForm = Resolve(document, paths.GetProperty("/v1/idphoto").GetProperty("post").GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema"));
        Assert.Equal(["photo", "spec"], Required(idPhotoForm));
        Assert.Equal(["photo", "spec", "background", "dpi", "kb", "sheet", "format", "identity"], idPhotoForm.GetProperty("properties").EnumerateObject().Select(p => p.Name));
        Assert.Equal("binary", idPhotoForm.GetProperty("properties").GetProperty("photo").GetProperty("format").GetString());
        var checkForm = Resolve(document, paths.GetProperty("/v1/idphoto/check").GetProperty("post").GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema"));
        Assert.Equal(["photo", "spec"], Required(checkForm));
        Assert.Equal(["photo", "mask", "spec", "dpi", "kb"], checkForm.GetProperty("properties").EnumerateObject().Select(p => p.Name));
        Assert.Equal("SubmitIdPhoto", paths.GetProperty("/v1/idphoto").GetProperty("post").GetProperty("operationId").GetString());
        Assert.True(paths.GetProperty("/v1/idphoto").GetProperty("post").GetProperty("responses").TryGetProperty("202", out _));

        using var idPhoto = IdPhotoApiTests.Form(null, "astronaut.png", ("spec", "cn-1inch"));
        using var idPhotoResponse = await h.Client.PostAsync("/v1/idphoto", idPhoto);
        var queuedIdPhoto = JsonDocument.Parse(await idPhotoResponse.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.Accepted, idPhotoResponse.StatusCode);
        Validate(document, jobView, queuedIdPhoto, "202 idphoto");
        var idPhotoId = queuedIdPhoto.GetProperty("id").GetString()!;
        Assert.Equal("job_succeeded", (await h.ReadEventsAsync(idPhotoId))[^1].Name);
        Validate(document, jobView, JsonDocument.Parse(await h.Client.GetStringAsync($"/v1/jobs/{idPhotoId}")).RootElement, "GET idphoto job");
        Validate(document, jobView, finished, "GET portrait job (idphoto null)");
        Assert.Equal(JsonValueKind.Null, finished.GetProperty("idphoto").ValueKind);
        Assert.Equal("portrait", finished.GetProperty("kind").GetString());

        var verdict = JsonDocument.Parse(await h.Client.GetStringAsync($"/v1/jobs/{idPhotoId}/outputs/verdict.json")).RootElement;
        Validate(document, schemas.GetProperty("IdPhotoVerdictView"), verdict, "verdict.json");
        using var check = IdPhotoApiTests.Form(null, "astronaut.png", ("spec", "cn-1inch"));
        using var checkResponse = await h.Client.PostAsync("/v1/idphoto/check", check);
        Assert.Equal(HttpStatusCode.OK, checkResponse.StatusCode);
        Validate(document, schemas.GetProperty("IdPhotoVerdictView"), JsonDocument.Parse(await checkResponse.Content.ReadAsStringAsync()).RootElement, "check");
        var specsResponse = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/idphoto/specs")).RootElement;
        Validate(document, paths.GetProperty("/v1/idphoto/specs").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema"), specsResponse, "specs");
    }

    [Fact]
    public async Task Docs_ServesSwaggerUi_FromLocalAssets_WithoutTheKey_WhileTheApiKeepsIt()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        using var anonymous = new HttpClient { BaseAddress = h.Server.Urls[0] };

        using var page = await anonymous.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var pageUrl = page.RequestMessage!.RequestUri!;
        Assert.Equal("/docs/index.html", pageUrl.AbsolutePath);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("id=\"swagger-ui\"", html, StringComparison.Ordinal);

        // Every script, style and icon is a relative URL on this server, and each is served without the key.
        var assets = AssetReference().Matches(html).Select(m => m.Groups["url"].Value).ToList();
        Assert.Contains(assets, a => a.EndsWith("swagger-ui-bundle.js", StringComparison.Ordinal));
        Assert.Contains(assets, a => a.EndsWith("swagger-ui.css", StringComparison.Ordinal));
        foreach (var asset in assets)
        {
            Assert.False(asset.Contains(':', StringComparison.Ordinal) || asset.StartsWith("//", StringComparison.Ordinal), $"{asset} is not on this server");
            var url = new Uri(pageUrl, asset);
            Assert.Equal(pageUrl.Authority, url.Authority);
            using var response = await anonymous.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{asset}: {response.StatusCode}");
            Assert.NotEmpty(await response.Content.ReadAsByteArrayAsync());
        }

        // The page's configuration: the document by a relative URL, no validator badge (swagger.io), no other host.
        var script = await anonymous.GetStringAsync(new Uri(pageUrl, "index.js"));
        var config = JsonDocument.Parse(ConfigObject().Match(script).Groups["json"].Value).RootElement;
        var documentUrl = Assert.Single(config.GetProperty("urls").EnumerateArray()).GetProperty("url").GetString()!;
        Assert.Equal("../openapi/v1.json", documentUrl);
        Assert.True(!config.TryGetProperty("validatorUrl", out var validator) || validator.ValueKind == JsonValueKind.Null);
        Assert.DoesNotContain("http", config.GetRawText(), StringComparison.OrdinalIgnoreCase);
        using var openApi = await anonymous.GetAsync(new Uri(pageUrl, documentUrl));
        Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
        Assert.Equal("/openapi/v1.json", openApi.RequestMessage!.RequestUri!.AbsolutePath);

        // The API itself still needs the key; so does anything but reading the reference.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/backends")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/openapi/v1.json", new StringContent(""))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/docs/index.html", new StringContent(""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/docs/nothing-here.js")).StatusCode);
    }

    [GeneratedRegex("""(?:src|href)="(?<url>[^"]+)" """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex AssetReference();

    [GeneratedRegex(@"var configObject = (?<json>\{.*?\});\s*$", RegexOptions.Multiline)]
    private static partial Regex ConfigObject();

    private static StringContent Json(Dictionary<string, object?> fields) =>
        new(JsonSerializer.Serialize(fields), Encoding.UTF8, "application/json");

    private static async Task AssertRefusedAsync(ServerHarness h, HttpContent content, string field)
    {
        using (content)
        using (var response = await h.Client.PostAsync("/v1/jobs", content))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {body}");
            Assert.Equal(field, JsonDocument.Parse(body).RootElement.GetProperty("field").GetString());
        }
    }

    private static string[] Required(JsonElement schema) =>
        schema.TryGetProperty("required", out var required) ? required.EnumerateArray().Select(r => r.GetString()!).ToArray() : [];

    private static string[] Types(JsonElement schema) =>
        schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("type", out var type) ? []
        : type.ValueKind == JsonValueKind.String ? [type.GetString()!]
        : type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToArray()
        : [];

    private static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        while (schema.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!;
            Assert.StartsWith("#/components/schemas/", name, StringComparison.Ordinal);
            schema = document.GetProperty("components").GetProperty("schemas").GetProperty(name["#/components/schemas/".Length..]);
        }

        return schema;
    }

    private static IEnumerable<JsonElement> Descendants(JsonElement element)
    {
        yield return element;
        var children = element.ValueKind switch
        {
            JsonValueKind.Object => element.EnumerateObject().Select(p => p.Value),
            JsonValueKind.Array => element.EnumerateArray(),
            _ => Enumerable.Empty<JsonElement>(),
        };
        foreach (var descendant in children.SelectMany(Descendants))
        {
            yield return descendant;
        }
    }

    /// <summary>
    /// A real value against its schema, for the keywords the document uses: $ref, type (with null), enum, required,
    /// properties (no property the schema does not list), items, oneOf. Fails naming the path.
    /// </summary>
    private static void Validate(JsonElement document, JsonElement schema, JsonElement value, string path)
    {
        schema = Resolve(document, schema);
        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            var matches = oneOf.EnumerateArray().Count(s => Matches(document, s, value));
            Assert.True(matches == 1, $"{path}: {value.GetRawText()} matches {matches} of oneOf");
            return;
        }

        var types = Types(schema);
        var kind = value.ValueKind switch
        {
            JsonValueKind.Null => "null",
            JsonValueKind.String => "string",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValueKind.Array => "array",
            JsonValueKind.Object => "object",
            _ => value.TryGetInt64(out _) ? "integer" : "number",
        };
        if (types.Length > 0)
        {
            Assert.True(types.Contains(kind) || (kind == "integer" && types.Contains("number")), $"{path}: {value.GetRawText()} is {kind}, the document says {string.Join('|', types)}");
        }

        if (schema.TryGetProperty("enum", out var values))
        {
            Assert.True(values.EnumerateArray().Any(v => v.GetRawText() == value.GetRawText()), $"{path}: {value.GetRawText()} is not in the enum");
        }

        if (kind == "object" && schema.TryGetProperty("properties", out var properties))
        {
            foreach (var required in Required(schema))
            {
                Assert.True(value.TryGetProperty(required, out _), $"{path}: the required {required} is missing");
            }

            foreach (var property in value.EnumerateObject())
            {
                if (!properties.TryGetProperty(property.Name, out var propertySchema))
                {
                    // Only where the document says that other properties may come (a verdict rule's own numbers).
                    Assert.True(schema.TryGetProperty("additionalProperties", out var more) && more.ValueKind != JsonValueKind.False, $"{path}: {property.Name} is not in the document");
                    continue;
                }

                Validate(document, propertySchema, property.Value, $"{path}.{property.Name}");
            }
        }

        if (kind == "array" && schema.TryGetProperty("items", out var items))
        {
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                Validate(document, items, item, $"{path}[{i++}]");
            }
        }
    }

    private static bool Matches(JsonElement document, JsonElement schema, JsonElement value)
    {
        try
        {
            Validate(document, schema, value, "");
            return true;
        }
        catch (Xunit.Sdk.XunitException)
        {
            return false;
        }
    }
}
