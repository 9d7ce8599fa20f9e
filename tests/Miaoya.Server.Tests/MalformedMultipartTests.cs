using System.Net;
using System.Text;

namespace Miaoya.Server.Tests;

/// <summary>Broken multipart framing, sent byte for byte: a problem naming the body (or the field at fault), never a 500.</summary>
[Collection(Hostile.Collection)]
public sealed class MalformedMultipartTests(HostileServerFixture fixture) : IClassFixture<HostileServerFixture>
{
    private const string Boundary = "miaoya-boundary-0123456789";
    private const string ContentType = "multipart/form-data; boundary=" + Boundary;

    private ServerHarness H => fixture.Harness;

    /// <summary>A well-formed body: the small astronaut, recipe v2 and the demo LoRA, with <paramref name="boundary"/>.</summary>
    private static byte[] ValidBody(string boundary = Boundary, bool close = true)
    {
        using var body = new MemoryStream();
        Write(body, $"--{boundary}\r\nContent-Disposition: form-data; name=\"template\"; filename=\"astronaut.png\"\r\nContent-Type: image/png\r\n\r\n");
        body.Write(Hostile.Template);
        Write(body, $"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"recipe\"\r\n\r\nv2");
        Write(body, $"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"lora\"\r\n\r\nmiaoya_demo_face:0.9");
        Write(body, close ? $"\r\n--{boundary}--\r\n" : "\r\n");
        return body.ToArray();
    }

    private static void Write(Stream stream, string text) => stream.Write(Encoding.UTF8.GetBytes(text));

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Ascii(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Submit_WellFormedRawBody_IsAccepted()
    {
        // The baseline the broken bodies below are made from.
        var answer = await Hostile.PostAsync(H, Hostile.Raw(ValidBody(), ContentType));
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
    }

    [Fact]
    public async Task Submit_BoundaryTheBodyDoesNotUse_Is400NamingBody()
    {
        // Without the image (under 16 KiB) ...
        var small = Ascii("--some-other-boundary\r\nContent-Disposition: form-data; name=\"recipe\"\r\n\r\nv2\r\n--some-other-boundary--\r\n");
        await Hostile.AssertProblemAsync(H, Hostile.Raw(small, ContentType), HttpStatusCode.BadRequest, "body");
        // ... and with it: a framing error, not an upload too large (the body is 100 kB, far within the limits).
        await Hostile.AssertProblemAsync(H, Hostile.Raw(ValidBody("some-other-boundary"), ContentType), HttpStatusCode.BadRequest, "body");
    }

    [Fact]
    public async Task Submit_GarbageBeforeTheFirstBoundary_IsIgnoredAsPreamble()
    {
        // RFC 2046: what comes before the first delimiter is a preamble, and ignored.
        var answer = await Hostile.PostAsync(H, Hostile.Raw(Concat([0x00, 0xFF, 0x0D, 0x0A, 0x2D, 0x2D, 0x41], Ascii("\r\n"), ValidBody()), ContentType));
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
    }

    [Fact]
    public async Task Submit_PartThatNeverEnds_Is400NamingBody()
    {
        await Hostile.AssertProblemAsync(H, Hostile.Raw(ValidBody(close: false), ContentType), HttpStatusCode.BadRequest, "body");
        // Cut inside the image, and cut inside a part's headers.
        var body = ValidBody();
        await Hostile.AssertProblemAsync(H, Hostile.Raw(body[..(body.Length / 2)], ContentType), HttpStatusCode.BadRequest, "body");
        await Hostile.AssertProblemAsync(H, Hostile.Raw(Ascii($"--{Boundary}\r\nContent-Disposition: form-da"), ContentType), HttpStatusCode.BadRequest, "body");
    }

    [Fact]
    public async Task Submit_EmptyBody_Is400NamingBody()
    {
        await Hostile.AssertProblemAsync(H, Hostile.Raw([], ContentType), HttpStatusCode.BadRequest, "body");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Submit_GarbageAfterThePartHeaders_Is400NamingBody(int variant)
    {
        var garbage = new byte[] { 0x00, 0xFF, 0xFE, 0x80, 0x0D, 0x1B, 0x5B, 0x32, 0x4A, 0xC3, 0x28 };
        var body = variant switch
        {
            // A header line that is no header (no colon), then binary.
            0 => Concat(Ascii($"--{Boundary}\r\nContent-Disposition: form-data; name=\"recipe\"\r\n"), garbage, Ascii($"\r\n\r\nv2\r\n--{Boundary}--\r\n")),
            // Binary where the blank line after the headers belongs, and no end.
            _ => Concat(Ascii($"--{Boundary}\r\nContent-Disposition: form-data; name=\"recipe\""), garbage, garbage),
        };
        await Hostile.AssertProblemAsync(H, Hostile.Raw(body, ContentType), HttpStatusCode.BadRequest, "body");
    }

    [Theory]
    [InlineData("multipart/form-data")]
    [InlineData("multipart/form-data; boundary=")]
    [InlineData("multipart/form-data; boundary=\"\"")]
    [InlineData("multipart/form-data; boundary=\"   \"")]
    [InlineData("multipart/form-data; charset=utf-8")]
    public async Task Submit_MultipartWithoutAUsableBoundary_Is400NamingBody(string contentType)
    {
        await Hostile.AssertProblemAsync(H, Hostile.Raw(ValidBody(), contentType), HttpStatusCode.BadRequest, "body", "boundary");
    }

    [Fact]
    public async Task Submit_BoundaryOver70Characters_Is400NamingBody()
    {
        var boundary = new string('b', 71);
        await Hostile.AssertProblemAsync(H, Hostile.Raw(ValidBody(boundary), "multipart/form-data; boundary=" + boundary), HttpStatusCode.BadRequest, "body", "boundary");
    }

    [Theory]
    [InlineData("multipart/mixed; boundary=" + Boundary)]
    [InlineData("multipart/; boundary=" + Boundary)]
    [InlineData("multipart")]
    [InlineData("text/plain")]
    [InlineData("application/octet-stream")]
    [InlineData(null)]
    public async Task Submit_NotFormDataOrJson_Is415NamingBody(string? contentType)
    {
        await Hostile.AssertProblemAsync(H, Hostile.Raw(ValidBody(), contentType), HttpStatusCode.UnsupportedMediaType, "body");
    }

    [Theory]
    [InlineData("")]
    [InlineData("Content-Type: text/plain\r\n")]
    [InlineData("Content-Disposition: attachment; name=\"recipe\"\r\n")]
    [InlineData("Content-Disposition: \r\n")]
    [InlineData("Content-Disposition: form-data; name=\"recipe\r\n")]
    public async Task Submit_PartWithoutAFormDataContentDisposition_Is400NamingBody(string headers)
    {
        var body = Concat(Ascii($"--{Boundary}\r\n{headers}\r\nv2\r\n"), ValidBody());
        await Hostile.AssertProblemAsync(H, Hostile.Raw(body, ContentType), HttpStatusCode.BadRequest, "body", "Content-Disposition");
    }

    /// <summary>A form-data part that names no field: the body is at fault (a problem naming the field "" helps nobody).</summary>
    [Theory]
    [InlineData("Content-Disposition: form-data\r\n")]
    [InlineData("Content-Disposition: form-data; name=\"\"\r\n")]
    [InlineData("Content-Disposition: form-data; filename=\"x.png\"\r\n")]
    public async Task Submit_PartWithoutAName_Is400NamingBody(string headers)
    {
        var body = Concat(Ascii($"--{Boundary}\r\n{headers}\r\nv2\r\n"), ValidBody());
        await Hostile.AssertProblemAsync(H, Hostile.Raw(body, ContentType), HttpStatusCode.BadRequest, "body");
    }

    [Theory]
    [InlineData("avatar")]
    [InlineData("recipe")]
    [InlineData("template2")]
    public async Task Submit_FilePartForAnUnknownField_Is400NamingThatField(string name)
    {
        var part = Concat(Ascii($"--{Boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n"), Hostile.Template, Ascii("\r\n"));
        await Hostile.AssertProblemAsync(H, Hostile.Raw(Concat(part, ValidBody()), ContentType), HttpStatusCode.BadRequest, name, "unknown file field");
    }

    [Theory]
    [InlineData("identity")]
    [InlineData("recipe")]
    [InlineData("trigger")]
    [InlineData("overrides")]
    [InlineData("recipe_yaml")]
    public async Task Submit_FieldPartOfInvalidUtf8_Is400NamingThatField(string name)
    {
        var part = Concat(Ascii($"--{Boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\nab"), [0xC3, 0x28, 0xFF, 0xED, 0xA0, 0x80], Ascii("\r\n"));
        // recipe is given again by the valid body; the UTF-8 check comes first.
        await Hostile.AssertProblemAsync(H, Hostile.Raw(Concat(part, ValidBody()), ContentType), HttpStatusCode.BadRequest, name, "UTF-8");
    }

    [Fact]
    public async Task Submit_FieldPartForAnUnknownField_Is400NamingThatField()
    {
        var part = Ascii($"--{Boundary}\r\nContent-Disposition: form-data; name=\"colour\"\r\n\r\nblue\r\n");
        await Hostile.AssertProblemAsync(H, Hostile.Raw(Concat(part, ValidBody()), ContentType), HttpStatusCode.BadRequest, "colour", "unknown field");
    }

    [Fact]
    public async Task Submit_TemplateTwice_Is400NamingTemplate()
    {
        var part = Concat(Ascii($"--{Boundary}\r\nContent-Disposition: form-data; name=\"template\"; filename=\"b.png\"\r\n\r\n"), Hostile.Template, Ascii("\r\n"));
        await Hostile.AssertProblemAsync(H, Hostile.Raw(Concat(part, ValidBody()), ContentType), HttpStatusCode.BadRequest, "template");
    }

    [Fact]
    public async Task Submit_MoreThan256Parts_Is400NamingBody()
    {
        var parts = string.Concat(Enumerable.Range(0, 300).Select(_ => $"--{Boundary}\r\nContent-Disposition: form-data; name=\"trigger\"\r\n\r\nw\r\n"));
        await Hostile.AssertProblemAsync(H, Hostile.Raw(Concat(Ascii(parts), ValidBody()), ContentType), HttpStatusCode.BadRequest, "body", "parts");
    }

    [Fact]
    public async Task Submit_PartWithTooManyOrTooLongHeaders_IsRefusedNamingBody()
    {
        var many = string.Concat(Enumerable.Range(0, 40).Select(i => $"X-Header-{i}: {i}\r\n"));
        var answer = await Hostile.PostAsync(H, Hostile.Raw(Concat(Ascii($"--{Boundary}\r\n{many}Content-Disposition: form-data; name=\"recipe\"\r\n\r\nv2\r\n"), ValidBody()), ContentType));
        Assert.True(answer.Status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, answer.ToString());
        Assert.Equal("body", Hostile.FieldOf(answer));
        Hostile.AssertIsProblem(answer);

        var longHeader = $"X-Long: {new string('h', 20_000)}\r\n";
        answer = await Hostile.PostAsync(H, Hostile.Raw(Concat(Ascii($"--{Boundary}\r\n{longHeader}Content-Disposition: form-data; name=\"recipe\"\r\n\r\nv2\r\n"), ValidBody()), ContentType));
        Assert.True(answer.Status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, answer.ToString());
        Assert.Equal("body", Hostile.FieldOf(answer));
        Hostile.AssertIsProblem(answer);
    }

    [Fact]
    public async Task Submit_TextFieldOverItsReadLimit_Is400NamingThatField()
    {
        // Past the most any text field may hold (an inline recipe's limit, as UTF-8): refused while it is read.
        var huge = new string('a', 1_100_000);
        await Hostile.AssertProblemAsync(H, Hostile.Form(("identity", huge)), HttpStatusCode.BadRequest, "identity");
    }

    [Fact]
    public async Task Submit_AfterEveryMalformedBody_ServerStillServes()
    {
        foreach (var body in new[] { ValidBody("x"), ValidBody(close: false), Ascii("--" + Boundary), Ascii("\r\n\r\n\r\n"), new byte[70_000] })
        {
            var answer = await Hostile.PostAsync(H, Hostile.Raw(body, ContentType));
            Assert.True(answer.Status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, answer.ToString());
            Assert.Equal("body", Hostile.FieldOf(answer));
            Hostile.AssertIsProblem(answer);
        }

        await Hostile.AssertStillServingAsync(H);
    }
}
