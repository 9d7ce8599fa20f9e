using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Miaoya.Server.Tests;

/// <summary>One server (no worker, the mock box probed) for the refusals that need nothing else.</summary>
public sealed class HostileServerFixture : IAsyncLifetime
{
    internal ServerHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync() => Harness = await Hostile.StartAsync();

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>
/// Issue 13, hostile and broken input: each input that used to give a 500, a stack trace, unbounded memory, a crash or a
/// silently wrong job is refused with problem details naming the field, nothing is queued or left on disk, and the
/// server keeps serving.
/// </summary>
[Collection(Hostile.Collection)]
public sealed class HostileSubmissionTests(HostileServerFixture fixture) : IClassFixture<HostileServerFixture>
{
    private ServerHarness H => fixture.Harness;

    [Theory]
    [InlineData("seed", "\"42\"")]
    [InlineData("seed", "1.5")]
    [InlineData("seed", "1e400")]
    [InlineData("seed", "123456789012345678901234567890")]
    [InlineData("seed", "true")]
    [InlineData("seed", "[42]")]
    [InlineData("face_index", "\"0\"")]
    [InlineData("face_index", "4294967296")]
    [InlineData("face_index", "{\"i\":0}")]
    [InlineData("lora", "42")]
    [InlineData("recipe", "[\"v2\"]")]
    [InlineData("identity", "{}")]
    [InlineData("trigger", "[1, 2]")]
    [InlineData("overrides", "{\"inpaint.steps\": 20}")]
    [InlineData("template", "42")]
    public async Task JsonSubmission_FieldOfTheWrongType_Is400NamingTheField(string field, string raw)
    {
        await Hostile.AssertProblemAsync(H, Hostile.Json((field, raw)), HttpStatusCode.BadRequest, field);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("42")]
    [InlineData("\"v2\"")]
    [InlineData("null")]
    [InlineData("")]
    [InlineData("{\"recipe\": \"v2\",}")]
    [InlineData("{\"recipe\": \"v2\"} {}")]
    public async Task JsonSubmission_NotOneJsonObject_Is400NamingBody(string body)
    {
        await Hostile.AssertProblemAsync(H, Hostile.Raw(body, "application/json"), HttpStatusCode.BadRequest, "body");
    }

    [Theory]
    [InlineData("\"!!! not base64 !!!\"")]
    [InlineData("\"data:image/png;base64,\"")]
    [InlineData("\"data:text/plain;base64,aGVsbG8=\"")]
    [InlineData("\"aGVsbG8=\"")]
    public async Task JsonSubmission_TemplateNotABase64Image_Is400NamingTemplate(string raw)
    {
        await Hostile.AssertProblemAsync(H, Hostile.Json(("template", raw)), HttpStatusCode.BadRequest, "template");
    }

    /// <summary>
    /// A JSON string holding a lone surrogate escape ("\ud800") cannot be read as text: a problem naming that field, like
    /// any other value of the wrong kind (not "body", and not a message about multipart framing).
    /// </summary>
    [Theory]
    [InlineData("identity", "\"\\ud800\"")]
    [InlineData("trigger", "\"a\\udc00b\"")]
    [InlineData("trigger", "[\"ok\", \"\\ud800\"]")]
    [InlineData("lora", "\"miaoya_demo_face\\ud800\"")]
    [InlineData("recipe", "\"v2\\udfff\"")]
    [InlineData("overrides", "[\"inpaint.steps=\\ud800\"]")]
    [InlineData("template", "\"iVBORw0KGgo\\ud800\"")]
    public async Task JsonSubmission_StringWithALoneSurrogate_Is400NamingTheField(string field, string raw)
    {
        await Hostile.AssertProblemAsync(H, Hostile.Json((field, raw)), HttpStatusCode.BadRequest, field);
    }

    [Theory]
    [InlineData("miaoya_demo_face:NaN")]
    [InlineData("miaoya_demo_face:nan")]
    [InlineData("miaoya_demo_face:Infinity")]
    [InlineData("miaoya_demo_face:-Infinity")]
    [InlineData("miaoya_demo_face:∞")]
    [InlineData("miaoya_demo_face:1e999")]
    public async Task Submit_LoraWeightNotFinite_Is400NamingLora(string lora)
    {
        await Hostile.AssertProblemAsync(H, Hostile.Form(("lora", lora)), HttpStatusCode.BadRequest, "lora", "weight");
        await Hostile.AssertProblemAsync(H, Hostile.Json(("lora", JsonSerializer.Serialize(lora))), HttpStatusCode.BadRequest, "lora", "weight");
    }

    /// <summary>Images are checked from their header before anything decodes them: format, truncation, sides.</summary>
    [Theory]
    [InlineData("template", "png-truncated")]
    [InlineData("template", "png-60000-wide")]
    [InlineData("template", "png-5000-square")]
    [InlineData("template", "png-zero-sides")]
    [InlineData("template", "jpeg-truncated")]
    [InlineData("template", "webp-truncated")]
    [InlineData("template", "gif")]
    [InlineData("template", "empty")]
    [InlineData("face", "png-truncated")]
    [InlineData("face", "png-60000-wide")]
    [InlineData("face", "gif")]
    public async Task Submit_ImageBrokenOrTooLargeByItsHeader_IsRefusedNamingTheFile(string field, string kind)
    {
        var image = BrokenImage(kind);
        var form = field == "template" ? ServerHarness.Form("v2", image) : ServerHarness.Form("v3", Hostile.Template);
        if (field == "face")
        {
            var face = new ByteArrayContent(image);
            face.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/png");
            form.Add(face, "face", "face.png");
        }

        var before = await Hostile.LeftoversAsync(H);
        var answer = await Hostile.PostAsync(H, form);
        Assert.True(answer.Status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, answer.ToString());
        Hostile.AssertProblem(answer, answer.Status, field);
        await Hostile.AssertNothingLeftAsync(H, before);
    }

    private static byte[] BrokenImage(string kind)
    {
        var png = Hostile.Template;
        switch (kind)
        {
            case "png-truncated":
                return png[..(png.Length / 2)];
            case "png-60000-wide":
                return WithPngSides(png, 60_000, 256);
            case "png-5000-square":
                return WithPngSides(png, 5_000, 5_000);
            case "png-zero-sides":
                return WithPngSides(png, 0, 0);
            case "gif":
                return [.. "GIF89a"u8, 1, 0, 1, 0, 0, 0, 0, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3B];
            case "empty":
                return [];
        }

        using var image = SixLabors.ImageSharp.Image.Load(png);
        using var stream = new MemoryStream();
        if (kind == "jpeg-truncated")
        {
            SixLabors.ImageSharp.ImageExtensions.SaveAsJpeg(image, stream);
        }
        else
        {
            SixLabors.ImageSharp.ImageExtensions.SaveAsWebp(image, stream);
        }

        var bytes = stream.ToArray();
        return bytes[..(bytes.Length / 2)];
    }

    /// <summary>The PNG with its IHDR saying other sides (and a correct CRC): the pixels are not there.</summary>
    private static byte[] WithPngSides(byte[] png, int width, int height)
    {
        var copy = (byte[])png.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(16), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(20), height);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(29), Crc32(copy.AsSpan(12, 17)));
        return copy;

        static uint Crc32(ReadOnlySpan<byte> data)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in data)
            {
                crc ^= b;
                for (var k = 0; k < 8; k++)
                {
                    crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
                }
            }

            return ~crc;
        }
    }

    [Fact]
    public async Task Submit_LoraNoProbedBoxLists_Is400NamingLora()
    {
        await Hostile.AssertProblemAsync(H, Hostile.Form(("lora", "nobody_has_this_lora:0.8")), HttpStatusCode.BadRequest, "lora", "none of the boxes");
    }

    [Theory]
    [InlineData("miaoya_demo_face:0.8 <lora:other:1>")]
    [InlineData("<lora:other:1>")]
    public async Task Submit_LoraWithPromptSyntax_Is400NamingLora(string lora)
    {
        await Hostile.AssertProblemAsync(H, Hostile.Form(("lora", lora)), HttpStatusCode.BadRequest, "lora");
    }

    [Fact]
    public async Task Submit_RecipeAndRecipeYaml_Is400NamingRecipeYaml()
    {
        var yaml = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "recipes", "v2.yaml"));
        await Hostile.AssertProblemAsync(H, Hostile.Form(("recipe_yaml", yaml)), HttpStatusCode.BadRequest, "recipe_yaml", "not both");
        await Hostile.AssertProblemAsync(H, Hostile.Json(("recipe_yaml", JsonSerializer.Serialize(yaml))), HttpStatusCode.BadRequest, "recipe_yaml", "not both");
    }

    [Theory]
    [InlineData("-2")]
    [InlineData("-9223372036854775808")]
    public async Task Submit_SeedBelowMinusOne_Is400NamingSeed(string seed)
    {
        await Hostile.AssertProblemAsync(H, Hostile.Form(("seed", seed)), HttpStatusCode.BadRequest, "seed");
        await Hostile.AssertProblemAsync(H, Hostile.Json(("seed", seed)), HttpStatusCode.BadRequest, "seed");
    }

    [Fact]
    public async Task Submit_SeedOverLongRange_Is400NamingSeed()
    {
        await Hostile.AssertProblemAsync(H, Hostile.Form(("seed", "9223372036854775808")), HttpStatusCode.BadRequest, "seed");
    }

    [Theory]
    [InlineData("<lora:other_person:1>")]
    [InlineData("(word:9.9)")]
    [InlineData("[a|b]")]
    [InlineData("word\\")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task Submit_TriggerWithPromptSyntaxOrOver100Characters_Is400NamingTrigger(string trigger)
    {
        await Hostile.AssertProblemAsync(H, Hostile.Form(("trigger", trigger)), HttpStatusCode.BadRequest, "trigger");
        await Hostile.AssertProblemAsync(H, Hostile.Json(("trigger", JsonSerializer.Serialize(new[] { "mxface", trigger }))), HttpStatusCode.BadRequest, "trigger");
    }

    [Fact]
    public async Task Submit_TriggerOfThreeMegabytes_Is400NamingTrigger()
    {
        var huge = new string('a', 3 * 1024 * 1024);
        await Hostile.AssertProblemAsync(H, Hostile.Form(("trigger", huge)), HttpStatusCode.BadRequest, "trigger");
        await Hostile.AssertProblemAsync(H, Hostile.Json(("trigger", JsonSerializer.Serialize(huge))), HttpStatusCode.BadRequest, "trigger");
    }

    [Fact]
    public async Task Submit_TooManyTriggerWords_Is400NamingTrigger()
    {
        var words = string.Join(", ", Enumerable.Range(0, 65).Select(i => $"w{i}"));
        await Hostile.AssertProblemAsync(H, Hostile.Form(("trigger", words)), HttpStatusCode.BadRequest, "trigger", "64");
    }

    [Theory]
    [InlineData(257, "")]
    [InlineData(0, "\u001b[31mred")]
    [InlineData(0, "a\u0000b")]
    [InlineData(0, "line\nbreak")]
    [InlineData(0, "\u202egnp.exe")]
    public async Task Submit_IdentityOver256CharactersOrWithControlCharacters_Is400NamingIdentity(int length, string identity)
    {
        identity = length > 0 ? new string('x', length) : identity;
        var problem = await Hostile.AssertProblemAsync(H, Hostile.Form(("identity", identity)), HttpStatusCode.BadRequest, "identity");
        // The message quotes nothing raw: a control character is written as an escape.
        Assert.DoesNotContain(problem.GetRawText(), c => c < ' ');
        await Hostile.AssertProblemAsync(H, Hostile.Json(("identity", JsonSerializer.Serialize(identity))), HttpStatusCode.BadRequest, "identity");
    }

    [Fact]
    public async Task Submit_Identity256Characters_IsAccepted()
    {
        var answer = await Hostile.PostAsync(H, Hostile.Form(("identity", new string('x', 256))));
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
    }

    [Theory]
    [InlineData("inpaint.nonsense=3")]
    [InlineData("inpaint.steps=abc")]
    [InlineData("inpaint=3")]
    [InlineData("not an override")]
    [InlineData("=3")]
    [InlineData("inpaint.steps=[unclosed")]
    public async Task Submit_OverrideProblem_Is400NamingOverrides(string line)
    {
        await Hostile.AssertProblemAsync(H, Hostile.Form(("overrides", line)), HttpStatusCode.BadRequest, "overrides");
        await Hostile.AssertProblemAsync(H, Hostile.Json(("overrides", JsonSerializer.Serialize(new[] { line }))), HttpStatusCode.BadRequest, "overrides");
    }

    [Fact]
    public async Task Submit_TooManyOverrides_Is400NamingOverrides()
    {
        var lines = string.Join('\n', Enumerable.Range(0, 65).Select(_ => "inpaint.steps=20"));
        await Hostile.AssertProblemAsync(H, Hostile.Form(("overrides", lines)), HttpStatusCode.BadRequest, "overrides", "64");
    }

    /// <summary>
    /// 64 override paths of 990 characters that name no field (a 64 kB request): the server suggests the closest field for
    /// each, and that search must not cost seconds of CPU per request (a request normally takes milliseconds).
    /// </summary>
    [Fact]
    public async Task Submit_SixtyFourLongUnknownOverridePaths_IsAnsweredPromptly()
    {
        string Lines(char c) => string.Join('\n', Enumerable.Range(0, 64).Select(i => Hostile.Invariant($"inpaint.{new string(c, 980)}{i}=1")));
        await Hostile.AssertProblemAsync(H, Hostile.Form(("overrides", "inpaint.nonsense=1")), HttpStatusCode.BadRequest, "overrides");
        var clock = Stopwatch.StartNew();
        await Hostile.AssertProblemAsync(H, Hostile.Form(("overrides", Lines('x'))), HttpStatusCode.BadRequest, "overrides");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"a refusal of 64 long unknown override paths took {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Theory]
    [InlineData("recipe_yaml", 25_000, '[', false)]
    [InlineData("recipe_yaml", 60_000, '[', false)]
    [InlineData("recipe_yaml", 25_000, '{', false)]
    [InlineData("recipe_yaml", 25_000, '[', true)]
    [InlineData("recipe_yaml", 60_000, '[', true)]
    [InlineData("recipe_yaml", 60_000, '{', true)]
    [InlineData("overrides", 25_000, '[', false)]
    [InlineData("overrides", 60_000, '[', false)]
    [InlineData("overrides", 60_000, '{', false)]
    [InlineData("overrides", 25_000, '[', true)]
    [InlineData("overrides", 60_000, '[', true)]
    [InlineData("overrides", 450, '[', false)]
    [InlineData("overrides", 150, '{', true)]
    public async Task Submit_YamlNestedDeep_Is400NamingTheField_AndTheServerKeepsServing(string field, int depth, char shape, bool json)
    {
        var nested = shape == '[' ? Hostile.Nested('[', ']', depth) : Hostile.NestedMapping(depth);
        var value = field == "overrides" ? "inpaint.controlnet.softedge.weight=" + nested : nested;
        HttpContent content = (field, json) switch
        {
            ("recipe_yaml", false) => ServerHarness.Form(null, Hostile.Template, ("recipe_yaml", value), ("lora", "miaoya_demo_face")),
            ("recipe_yaml", true) => Hostile.Json(("recipe", ""), ("recipe_yaml", JsonSerializer.Serialize(value))),
            (_, false) => Hostile.Form((field, value)),
            _ => Hostile.Json((field, JsonSerializer.Serialize(new[] { value }))),
        };
        await Hostile.AssertProblemAsync(H, content, HttpStatusCode.BadRequest, field);
        await Hostile.AssertStillServingAsync(H);
    }

    [Theory]
    [InlineData("overrides")]
    [InlineData("trigger")]
    [InlineData("seed")]
    public async Task JsonSubmission_ValueNested60000Deep_Is400NamingBody_AndTheServerKeepsServing(string field)
    {
        await Hostile.AssertProblemAsync(H, Hostile.Json((field, Hostile.Nested('[', ']', 60_000))), HttpStatusCode.BadRequest, "body", "JSON");
        await Hostile.AssertStillServingAsync(H);
    }

    /// <summary>
    /// 200 kB of unknown keys: at most 50 problems are listed and the message is cut at 8 KiB. (Each unknown top-level key's
    /// problem lists every known key, so the 8 KiB cut comes before the "... and N more" line.)
    /// </summary>
    [Fact]
    public async Task Submit_RecipeYamlOf200KilobytesOfUnknownKeys_IsABoundedProblem()
    {
        var yaml = new StringBuilder("name: big\npipeline: v2\n");
        for (var i = 0; yaml.Length < 200 * 1024; i++)
        {
            yaml.Append(Hostile.Invariant($"unknown_key_{i:D5}_padding_padding_padding: {i}\n"));
        }

        var problem = await Hostile.AssertProblemAsync(
            H, ServerHarness.Form(null, Hostile.Template, ("recipe_yaml", yaml.ToString()), ("lora", "miaoya_demo_face")), HttpStatusCode.BadRequest, "recipe_yaml");
        var message = problem.GetProperty("errors").GetProperty("recipe_yaml")[0].GetString()!;
        Assert.True(message.Contains("more problem", StringComparison.Ordinal) || message.Contains("(cut:", StringComparison.Ordinal), message);
        Assert.InRange(message.Split('\n').Length, 2, 51);
        Assert.InRange(message.Length, 1, Problems.MaxMessageChars + 100);
        await Hostile.AssertStillServingAsync(H);
    }

    [Fact]
    public async Task Submit_RecipeYamlOfThousandsOfUnknownSectionKeys_Lists50AndCountsTheRest()
    {
        var yaml = new StringBuilder(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "recipes", "v2.yaml")));
        yaml.Append("finish:\n");
        for (var i = 0; i < 3_000; i++)
        {
            yaml.Append(Hostile.Invariant($"  k{i}: {i}\n"));
        }

        var problem = await Hostile.AssertProblemAsync(
            H, ServerHarness.Form(null, Hostile.Template, ("recipe_yaml", yaml.ToString()), ("lora", "miaoya_demo_face")), HttpStatusCode.BadRequest, "recipe_yaml");
        var message = problem.GetProperty("errors").GetProperty("recipe_yaml")[0].GetString()!;
        // As many problems as fit the message (at most 50), then a line counting the rest: 3,000 unknown keys and the
        // missing spec, 3,001 in all.
        var lines = message.Split('\n');
        Assert.InRange(lines.Length, 11, 51);
        var more = System.Text.RegularExpressions.Regex.Match(lines[^1], @"^\.\.\. and ([0-9,]+) more problems$");
        Assert.True(more.Success, lines[^1]);
        Assert.Equal(3_001, lines.Length - 1 + int.Parse(more.Groups[1].Value, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("abc", "limit")]
    [InlineData("0", "limit")]
    [InlineData("-1", "limit")]
    [InlineData("99999999999", "limit")]
    [InlineData("1e3", "limit")]
    public async Task ListJobs_LimitNotAUsableNumber_Is400NamingLimit(string limit, string field)
    {
        using var response = await H.Client.GetAsync("/v1/jobs?limit=" + Uri.EscapeDataString(limit));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var answer = new Hostile.Answer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, Encoding.UTF8.GetString(bytes), bytes.Length, response.Headers);
        Hostile.AssertProblem(answer, HttpStatusCode.BadRequest, field);
    }

    /// <summary>Refusals repeat at most a bounded part of what was sent, whatever it holds: under 32 KiB each.</summary>
    [Fact]
    public async Task Refusals_OfOversizedOrEscapeHeavyInput_StayUnder32KiB()
    {
        // Characters JSON writers escape (six bytes each as \uXXXX): the worst case for a message that quotes the input.
        const string Heavy = "<>&'+é中\u2028";
        string Repeat(int length) => string.Concat(Enumerable.Repeat(Heavy, length / Heavy.Length + 1))[..length];

        var cases = new List<(string Name, Func<HttpContent> Content)>
        {
            ("unknown field with a 15 kB name", () => Hostile.Form((Repeat(15_000), "x"))),
            ("unknown JSON field with a 100 kB name", () => Hostile.Json((Repeat(100_000), "1"))),
            ("seed of 500 kB", () => Hostile.Form(("seed", Repeat(500_000)))),
            ("lora of 500 kB", () => Hostile.Form(("lora", Repeat(500_000)))),
            ("recipe name of 500 kB", () => ServerHarness.Form(Repeat(500_000), Hostile.Template)),
            ("recipe name of 120 characters", () => ServerHarness.Form(Repeat(120), Hostile.Template)),
            // 12 lines of 990 characters: past the 8 KiB message cap (64 would take seconds: see Submit_SixtyFourLongUnknownOverridePaths_IsAnsweredPromptly).
            ("12 unknown override paths of 990 characters", () => Hostile.Form(("overrides", string.Join('\n', Enumerable.Range(0, 12).Select(i => Repeat(990) + "=1"))))),
            ("12 unknown override paths of 990 CJK characters", () => Hostile.Form(("overrides", string.Join('\n', Enumerable.Range(0, 12).Select(i => new string('中', 990) + "=1"))))),
            ("12 unknown override paths of 990 U+2028 characters", () => Hostile.Form(("overrides", string.Join('\n', Enumerable.Range(0, 12).Select(i => "a" + new string('\u2028', 988) + "b=1"))))),
            ("64 bad override values of 990 characters", () => Hostile.Form(("overrides", string.Join('\n', Enumerable.Range(0, 64).Select(i => "inpaint.steps=[" + Repeat(980)))))),
            ("64 trigger words of 100 characters", () => Hostile.Form(("trigger", string.Join(',', Enumerable.Range(0, 64).Select(i => Repeat(100)))))),
            ("recipe_yaml of 4,000 unknown keys", () => ServerHarness.Form(null, Hostile.Template, ("recipe_yaml", UnknownKeys(4_000, Repeat(40).Replace('\u2028', '中'))), ("lora", "miaoya_demo_face"))),
            ("recipe_yaml of 256 K characters", () => ServerHarness.Form(null, Hostile.Template, ("recipe_yaml", "name: " + Repeat(256 * 1024)), ("lora", "miaoya_demo_face"))),
            ("identity of 100 kB", () => Hostile.Form(("identity", Repeat(100_000)))),
        };

        var answers = new List<(string Name, Hostile.Answer Answer)>();
        foreach (var (name, content) in cases)
        {
            answers.Add((name, await Hostile.PostAsync(H, content())));
        }

        using (var response = await H.Client.GetAsync("/v1/jobs?limit=" + Uri.EscapeDataString(Repeat(1_000))))
        {
            var bytes = await response.Content.ReadAsByteArrayAsync();
            answers.Add(("a ?limit of 1,000 characters", new Hostile.Answer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, Encoding.UTF8.GetString(bytes), bytes.Length, response.Headers)));
        }

        var failures = new List<string>();
        foreach (var (name, answer) in answers)
        {
            if (answer.Status is not (HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge) || answer.MediaType != "application/problem+json")
            {
                failures.Add($"{name}: {answer}");
            }
            else if (answer.BodyBytes >= Hostile.MaxRefusalBytes)
            {
                failures.Add($"{name}: {answer.BodyBytes:N0} bytes ({answer.Body.Length:N0} characters), field {Hostile.FieldOf(answer)}");
            }
        }

        Assert.True(failures.Count == 0, "refusals over 32 KiB or not problems:\n" + string.Join('\n', failures));
        await Hostile.AssertStillServingAsync(H);

        static string UnknownKeys(int count, string padding)
        {
            var yaml = new StringBuilder("name: keys\npipeline: v2\n");
            for (var i = 0; i < count; i++)
            {
                yaml.Append('"').Append(padding).Append(i).Append("\": 1\n");
            }

            return yaml.ToString();
        }
    }

    internal static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Miaoya.Orchestrator.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
