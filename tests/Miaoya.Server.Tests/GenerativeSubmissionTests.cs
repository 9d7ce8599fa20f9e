using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using CsCheck;

namespace Miaoya.Server.Tests;

/// <summary>
/// Generated hostile submissions (CsCheck): mutated multipart bodies and JSON fields of every type. Whatever arrives, the
/// answer is 202 or a problem (400/413/415) naming a field, never a 500, and the server keeps serving.
/// </summary>
[Collection(Hostile.Collection)]
public sealed class GenerativeSubmissionTests(HostileServerFixture fixture) : IClassFixture<HostileServerFixture>
{
    private const string Boundary = "gen-boundary-7f3a9c";

    private static readonly HttpStatusCode[] Allowed =
        [HttpStatusCode.Accepted, HttpStatusCode.BadRequest, HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.UnsupportedMediaType];

    private ServerHarness H => fixture.Harness;

    // ---- (a) mutated multipart bodies -------------------------------------------------------------------

    /// <summary>One change to a body: kind, where (0..1), bytes to use, and a new boundary for the header.</summary>
    internal sealed record Mutation(int Kind, double At, byte[] Bytes, string Boundary)
    {
        public override string ToString() => Kind switch
        {
            0 => Invariant($"truncate at {At:F4}"),
            1 => Invariant($"flip byte at {At:F4} with {Bytes[0]:x2}"),
            2 => Invariant($"duplicate a CRLF at {At:F4}"),
            3 => Invariant($"remove a CRLF at {At:F4}"),
            4 => $"header boundary '{Boundary}'",
            5 => Invariant($"insert {Convert.ToHexString(Bytes)} at {At:F4}"),
            _ => Invariant($"corrupt a delimiter at {At:F4} with {Bytes[0]:x2}"),
        };
    }

    private static readonly Gen<Mutation> MutationGen = Gen.Select(
        Gen.Int[0, 6],
        Gen.Double[0, 1],
        Gen.Byte.Array[1, 24],
        Gen.Char["abcXYZ019'()+_,-./:=? \"\t;"].Array[0, 80].Select(c => new string(c)),
        (kind, at, bytes, boundary) => new Mutation(kind, at, bytes, boundary));

    /// <summary>The body to mutate: text fields first, the small astronaut last; and where the image's bytes are.</summary>
    private static (byte[] Body, int ImageStart, int ImageEnd) BaseBody()
    {
        using var body = new MemoryStream();
        void Write(string text) => body.Write(Encoding.UTF8.GetBytes(text));
        foreach (var (name, value) in new[] { ("recipe", "v2"), ("lora", "miaoya_demo_face:0.9"), ("seed", "7"), ("trigger", "mxface, photo"), ("identity", "customer-1"), ("overrides", "inpaint.steps=20") })
        {
            Write($"--{Boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
        }

        Write($"--{Boundary}\r\nContent-Disposition: form-data; name=\"template\"; filename=\"astronaut.png\"\r\nContent-Type: image/png\r\n\r\n");
        var start = (int)body.Length;
        body.Write(Hostile.Template);
        var end = (int)body.Length;
        Write($"\r\n--{Boundary}--\r\n");
        return (body.ToArray(), start, end);
    }

    /// <summary>
    /// Applies the mutations. Positions fall mostly on the framing (the text parts, the headers, the image's first and
    /// last bytes), where a change means something to the reader, and otherwise anywhere.
    /// </summary>
    private static (byte[] Body, string ContentType) Apply(Mutation[] mutations)
    {
        var (bytes, imageStart, imageEnd) = BaseBody();
        var body = new List<byte>(bytes);
        var header = Boundary;
        foreach (var m in mutations)
        {
            var framing = Enumerable.Range(0, body.Count).Where(i => i < imageStart + 64 || i >= imageEnd - 32).ToArray();
            int Position(double at) => body.Count == 0 ? 0
                : at < 0.7 ? framing[Math.Min(framing.Length - 1, (int)(at / 0.7 * framing.Length))]
                : Math.Min(body.Count - 1, (int)((at - 0.7) / 0.3 * body.Count));
            int[] Crlfs() => Enumerable.Range(0, Math.Max(0, body.Count - 1)).Where(i => body[i] == '\r' && body[i + 1] == '\n' && (i < imageStart || i >= imageEnd)).ToArray();
            void Shift(int at, int delta)
            {
                if (at <= imageStart)
                {
                    imageStart += delta;
                }

                if (at <= imageEnd)
                {
                    imageEnd += delta;
                }
            }

            switch (m.Kind)
            {
                case 0:
                    var keep = (int)(m.At * body.Count);
                    body.RemoveRange(keep, body.Count - keep);
                    break;
                case 1 when body.Count > 0:
                    var flip = Position(m.At);
                    body[flip] ^= (byte)(m.Bytes[0] | 1);
                    break;
                case 2 or 3:
                    var crlfs = Crlfs();
                    if (crlfs.Length == 0)
                    {
                        break;
                    }

                    var crlf = crlfs[Math.Min(crlfs.Length - 1, (int)(m.At * crlfs.Length))];
                    if (m.Kind == 2)
                    {
                        body.InsertRange(crlf, "\r\n"u8.ToArray());
                        Shift(crlf, 2);
                    }
                    else
                    {
                        body.RemoveRange(crlf, 2);
                        Shift(crlf, -2);
                    }

                    break;
                case 4:
                    header = m.Boundary;
                    break;
                case 5:
                    var insert = Position(m.At);
                    body.InsertRange(insert, m.Bytes);
                    Shift(insert, m.Bytes.Length);
                    break;
                case 6:
                    var delimiters = Delimiters(body);
                    if (delimiters.Length > 0)
                    {
                        var delimiter = delimiters[Math.Min(delimiters.Length - 1, (int)(m.At * delimiters.Length))];
                        body[delimiter + 2 + (m.Bytes[0] % Boundary.Length)] = m.Bytes.Length > 1 ? m.Bytes[1] : (byte)'!';
                    }

                    break;
            }
        }

        return (body.ToArray(), $"multipart/form-data; boundary={header}");

        static int[] Delimiters(List<byte> body)
        {
            var found = new List<int>();
            var pattern = Encoding.ASCII.GetBytes("--" + Boundary);
            var span = body.ToArray().AsSpan();
            for (var at = span.IndexOf(pattern); at >= 0;)
            {
                found.Add(at);
                var next = span[(at + 1)..].IndexOf(pattern);
                at = next < 0 ? -1 : at + 1 + next;
            }

            return [.. found];
        }
    }

    [Fact]
    public async Task Submit_MutatedMultipartBody_IsAcceptedOrAProblem_NeverA500()
    {
        // The unmutated body is accepted.
        var (valid, _, _) = BaseBody();
        var baseline = await Hostile.PostAsync(H, Hostile.Raw(valid, $"multipart/form-data; boundary={Boundary}"));
        Assert.True(baseline.Status == HttpStatusCode.Accepted, baseline.ToString());

        var statuses = new Dictionary<HttpStatusCode, int>();
        var count = 0;
        await MutationGen.Array[1, 3].SampleAsync(
            async mutations =>
            {
                var (body, contentType) = Apply(mutations);
                var answer = await Hostile.PostAsync(H, Hostile.Raw(body, contentType));
                Assert.True(Allowed.Contains(answer.Status), answer.ToString());
                if (answer.Status != HttpStatusCode.Accepted)
                {
                    // (A part whose name was mutated away is named "" for now: see MalformedMultipartTests.Submit_PartWithoutAName_Is400NamingBody.)
                    Assert.True(Hostile.AssertIsProblem(answer).TryGetProperty("field", out _), $"no field member: {answer}");
                }

                lock (statuses)
                {
                    statuses[answer.Status] = statuses.GetValueOrDefault(answer.Status) + 1;
                }

                if (Interlocked.Increment(ref count) % 40 == 0)
                {
                    using var health = await H.Client.GetAsync("/healthz");
                    Assert.Equal(HttpStatusCode.OK, health.StatusCode);
                }
            },
            iter: 200,
            threads: 1,
            print: mutations => string.Join("; ", mutations.Select(m => m.ToString())));

        // The mutations reached the reader: some were refused, and not all for one reason.
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 0, string.Join(", ", statuses));
        Assert.Empty(Directory.EnumerateFileSystemEntries(H.UploadDirectory));
        await Hostile.AssertStillServingAsync(H);
    }

    // ---- (b) JSON fields of every type ------------------------------------------------------------------

    private static readonly string[] Fields = ["seed", "face_index", "trigger", "lora", "recipe", "identity", "overrides"];

    /// <summary>Strings that mean something to one field (valid, nearly valid, hostile).</summary>
    private static readonly Dictionary<string, string[]> Interesting = new(StringComparer.Ordinal)
    {
        ["seed"] = ["42", "-1", "-2", " ", ""],
        ["face_index"] = ["0", "1", "-1"],
        ["trigger"] = ["mxface", "(word:9.9)", "<lora:x:1>", "a,b", "[a|b]", "", new string('w', 101)],
        ["lora"] = ["miaoya_demo_face", "miaoya_demo_face:0.5", "miaoya_demo_face:NaN", "miaoya_demo_face:1e999", "miaoya_demo_face:-0.1", "nobody_has_it", "a:b:c", ":", "<lora:x:1>"],
        ["recipe"] = ["v2", "v1-face", "v1-face-neck", "V2", "../v2", "/etc/passwd", "v2.yaml", ""],
        ["identity"] = ["customer-1", "\u001b[2J", "\u202eexe.png", "a\nb", new string('x', 257), "顧客"],
        ["overrides"] = ["inpaint.steps=20", "inpaint.steps=abc", "=", "a=b", "inpaint.steps=[[[", "prompt.face_words=a,b", "inpaint=1", "inpaint.steps=" + new string('[', 200)],
    };

    /// <summary>
    /// Raw JSON for one field. Strings are well-formed UTF-16: a lone surrogate (\ud800) is a known problem of its own,
    /// pinned by <see cref="HostileSubmissionTests.JsonSubmission_StringWithALoneSurrogate_Is400NamingTheField"/>.
    /// </summary>
    private static Gen<string> RawValue(string field)
    {
        var text = Gen.Frequency(
            (3, Gen.String.Where(IsWellFormed)),
            (3, Gen.OneOf(Interesting[field].Select(Gen.Const).ToArray())),
            (1, Gen.Char["\u0000\u001b\u202e\u2028\"\\<>(),:=[]{}|aé中"].Array[0, 12].Select(c => new string(c)).Where(IsWellFormed)));
        return Gen.Frequency(
            (4, text.Select(s => JsonSerializer.Serialize(s))),
            (2, Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture))),
            (1, Gen.Int[-3, 5].Select(i => i.ToString(CultureInfo.InvariantCulture))),
            (1, Gen.Double.Where(double.IsFinite).Select(d => d.ToString("R", CultureInfo.InvariantCulture))),
            (1, Gen.Int[19, 400].Select(n => "9" + new string('9', n))),
            (1, Gen.OneOf(Gen.Const("1e400"), Gen.Const("-1e400"), Gen.Const("0.5"), Gen.Const("-0"), Gen.Const("1E2"), Gen.Const("2.0"), Gen.Const("\"\\ud83d\\ude00\""))),
            (1, Gen.Bool.Select(b => b ? "true" : "false")),
            (1, Gen.Const("null")),
            (2, text.Array[0, 5].Select(a => JsonSerializer.Serialize(a))),
            (1, Gen.OneOf(Gen.Const("[1, \"a\", null]"), Gen.Const("[[\"a\"]]"), Gen.Const("[true]"), Gen.Const("[]"))),
            (1, Gen.OneOf(Gen.Const("{}"), Gen.Const("{\"a\": 1}"), Gen.Const("{\"inpaint.steps\": \"20\"}"))),
            (1, Gen.Int[1, 50].Select(depth => Hostile.Nested('[', ']', depth))));
    }

    private static readonly Gen<(string Field, string Raw)> FieldValue =
        Gen.OneOf(Fields.Select(Gen.Const).ToArray()).SelectMany(field => RawValue(field).Select(raw => (field, raw)));

    [Fact]
    public async Task JsonSubmission_AnyValueOfAnyField_IsAcceptedOrA400NamingThatField()
    {
        var accepted = 0;
        var refused = 0;
        var count = 0;
        await FieldValue.SampleAsync(
            async value =>
            {
                var answer = await Hostile.PostAsync(H, Hostile.Json((value.Field, value.Raw)));
                if (answer.Status == HttpStatusCode.Accepted)
                {
                    Interlocked.Increment(ref accepted);
                }
                else
                {
                    Assert.True(answer.Status == HttpStatusCode.BadRequest, answer.ToString());
                    Hostile.AssertIsProblem(answer);
                    Assert.True(Hostile.FieldOf(answer) == value.Field, $"expected a problem naming {value.Field}: {answer}");
                    Interlocked.Increment(ref refused);
                }

                if (Interlocked.Increment(ref count) % 50 == 0)
                {
                    using var health = await H.Client.GetAsync("/healthz");
                    Assert.Equal(HttpStatusCode.OK, health.StatusCode);
                }
            },
            iter: 280,
            threads: 1,
            print: value => $"{value.Field} = {(value.Raw.Length > 300 ? value.Raw[..300] + "…" : value.Raw)}");

        Assert.True(accepted > 0 && refused > 0, $"{accepted} accepted, {refused} refused");
        Assert.Empty(Directory.EnumerateFileSystemEntries(H.UploadDirectory));
        await Hostile.AssertStillServingAsync(H);
    }

    private static bool IsWellFormed(string text)
    {
        try
        {
            _ = StrictUtf8.GetByteCount(text);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
