using System.Text.Json.Nodes;
using Miaoya.Recipes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Pipeline.Tests;

/// <summary>
/// Several people in one template against the mock: two astronauts side by side (made here, not a committed file), each
/// face with its own person. Each person's calls must carry only their LoRA, mask and identity unit, and change only their face.
/// </summary>
public sealed class PeopleTests
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "StandInModels");

    /// <summary>The astronaut on the left, and mirrored on the right: 1024×512, two faces of the same size.</summary>
    internal static string TwoPeople(PipelineHarness h) => h.Write("two-people.png", s =>
    {
        using var one = Image.Load<Rgb24>(PipelineHarness.Astronaut);
        using var mirrored = one.Clone(c => c.Flip(FlipMode.Horizontal));
        using var both = new Image<Rgb24>(one.Width * 2, one.Height);
        both.Mutate(c => c.DrawImage(one, new Point(0, 0), 1f).DrawImage(mirrored, new Point(one.Width, 0), 1f));
        both.SaveAsPng(s);
    });

    /// <summary>A photo of one person: the astronaut on a grey border.</summary>
    private static string FacePhoto(PipelineHarness h, string name, bool mirrored) => h.Write(name, s =>
    {
        using var photo = Image.Load<Rgb24>(PipelineHarness.Astronaut);
        photo.Mutate(c =>
        {
            if (mirrored)
            {
                c.Flip(FlipMode.Horizontal);
            }

            c.Pad(photo.Width + 40, photo.Height + 40, Color.Gray);
        });
        photo.SaveAsPng(s);
    });

    private static RunRequest TwoPersonV2(PipelineHarness h, string recipe = "v2-finish", params string[] overrides) =>
        h.Request(recipe, TwoPeople(h), overrides) with
        {
            Lora = null,
            People =
            [
                new PersonRequest(0, LoraChoice.Parse("miaoya_demo_face:0.9"), []),
                new PersonRequest(1, LoraChoice.Parse("add_detail:0.6"), []),
            ],
        };

    [Fact]
    public async Task V2Finish_TwoPeople_OneInpaintPerPerson_WithOnlyTheirLoraAndMask_TheWholeImagePassWithNoone_DetailAndRestorePerFace()
    {
        using var h = new PipelineHarness();
        var result = await h.Pipeline.RunAsync(TwoPersonV2(h));

        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
        Assert.Equal(
            [StepName.Interrogate, StepName.Mask, StepName.Inpaint, StepName.Img2Img, StepName.Detail, StepName.Restore, StepName.Upscale],
            result.Manifest.Steps.Select(s => s.Name));

        // The manifest records the people as given; mask records where each face is, left to right.
        var people = result.Manifest.Inputs.People!;
        Assert.Equal([(0, "miaoya_demo_face:0.9"), (1, "add_detail:0.6")], people.Select(p => (p.FaceIndex, p.Lora!)));
        var mask = result.Manifest.Step(StepName.Mask)!.ResultAs<MaskResult>()!;
        Assert.Equal(2, mask.FacesFound);
        Assert.Equal(["mask-face-0.png", "mask-face-1.png"], mask.People!.Select(p => p.File));
        var left = Box(mask.People![0].Face!);
        var right = Box(mask.People[1].Face!);
        Assert.True(left.Right < 512 && right.Left > 512, $"faces at {left} and {right}");

        // interrogate: the run's prompt has no LoRA; each person's has theirs alone.
        var prompts = result.Manifest.Step(StepName.Interrogate)!.ResultAs<InterrogateResult>()!;
        Assert.DoesNotContain("<lora:", prompts.Prompt, StringComparison.Ordinal);
        Assert.Contains("<lora:miaoya_demo_face:0.9>", prompts.People![0].Prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("add_detail", prompts.People[0].Prompt, StringComparison.Ordinal);
        Assert.Contains("<lora:add_detail:0.6>", prompts.People[1].Prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("miaoya_demo_face", prompts.People[1].Prompt, StringComparison.Ordinal);

        // inpaint, img2img, then a detail pass per face: five img2img calls.
        var img2img = h.Received("/sdapi/v1/img2img");
        Assert.Equal(5, img2img.Count);
        var (first, second, whole, detail0, detail1) = (img2img[0], img2img[1], img2img[2], img2img[3], img2img[4]);

        // Each inpaint call: only its person's LoRA, and a mask white over its person's face only.
        AssertOnlyLora(first, "miaoya_demo_face", "add_detail");
        AssertOnlyLora(second, "add_detail", "miaoya_demo_face");
        AssertMaskOver(first["mask"]!, left, right);
        AssertMaskOver(second["mask"]!, right, left);

        // The second call starts from the first's result; the manifest records both calls.
        using (var firstResult = Decode(h.Received("/sdapi/v1/img2img")[0]["init_images"]![0]!))
        {
            Assert.Equal((1024, 512), (firstResult.Width, firstResult.Height));
        }

        var inpaint = result.Manifest.Step(StepName.Inpaint)!;
        var calls = inpaint.Request!["people"]!.AsArray();
        Assert.Equal([0, 1], calls.Select(c => c!["face_index"]!.GetValue<int>()));
        Assert.Equal("template.png", calls[0]!["request"]!["init_images"]![0]!["file"]!.GetValue<string>());
        Assert.Equal("inpaint-face-0.png", calls[1]!["request"]!["init_images"]![0]!["file"]!.GetValue<string>());
        Assert.Equal("mask-face-1.png", calls[1]!["request"]!["mask"]!["file"]!.GetValue<string>());
        Assert.Equal("inpaint.png", inpaint.Outputs[0].File);
        Assert.Equal(Pixels(Path.Combine(result.Folder, "inpaint-face-1.png")), Pixels(Path.Combine(result.Folder, "inpaint.png")));

        // Pasted back: the first call changed pixels only under face 0's mask, the second only under face 1's.
        AssertChangedOnlyUnderMask(result.Folder, "template.png", "inpaint-face-0.png", "mask-face-0.png");
        AssertChangedOnlyUnderMask(result.Folder, "inpaint-face-0.png", "inpaint-face-1.png", "mask-face-1.png");

        // img2img renders every face at once: no person's LoRA, and the manifest says why.
        Assert.DoesNotContain("<lora:", whole["prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(whole["mask"]);
        var wholeResult = result.Manifest.Step(StepName.Img2Img)!.ResultAs<GenerationResult>()!;
        Assert.Contains("no person's LoRA and no identity unit", wholeResult.Note, StringComparison.Ordinal);

        // detail: each face its own crop and prompt; the pasted-back image changed inside the two face regions only.
        AssertOnlyLora(detail0, "miaoya_demo_face", "add_detail");
        AssertOnlyLora(detail1, "add_detail", "miaoya_demo_face");
        var details = result.Manifest.Step(StepName.Detail)!.ResultAs<DetailResult>()!.People!;
        Assert.Equal([0, 1], details.Select(d => d.FaceIndex!.Value));
        Assert.All(details, d => Assert.Null(d.SkippedBecause));
        var regions = details.Select(d => new Rectangle(d.Region![0], d.Region[1], d.Region[2], d.Region[3])).ToArray();
        Assert.True(regions[0].Right <= regions[1].Left, $"detail regions {regions[0]} and {regions[1]} overlap");
        using (var before = Image.Load<Rgb24>(Path.Combine(result.Folder, "img2img.png")))
        using (var after = Image.Load<Rgb24>(Path.Combine(result.Folder, "detail.png")))
        {
            AssertChangedInsideOnly(before, after, regions);
        }

        // restore: one extras call per face (each the face's region alone), then the upscale.
        var extras = h.Received("/sdapi/v1/extra-single-image");
        Assert.Equal(3, extras.Count);
        var restores = result.Manifest.Step(StepName.Restore)!.ResultAs<RestoreResult>()!.People!;
        Assert.Equal([0, 1], restores.Select(r => r.FaceIndex!.Value));
        var restoreRegions = restores.Select(r => new Rectangle(r.Region![0], r.Region[1], r.Region[2], r.Region[3])).ToArray();
        Assert.Equal(SizeOf(extras[0]["image"]!), (restoreRegions[0].Width, restoreRegions[0].Height));
        Assert.Equal(SizeOf(extras[1]["image"]!), (restoreRegions[1].Width, restoreRegions[1].Height));
        using (var before = Image.Load<Rgb24>(Path.Combine(result.Folder, "detail.png")))
        using (var after = Image.Load<Rgb24>(Path.Combine(result.Folder, "restore.png")))
        {
            AssertChangedInsideOnly(before, after, restoreRegions);
        }

        Assert.Equal("R-ESRGAN 4x+", extras[2]["upscaler_1"]!.GetValue<string>());
    }

    [Fact]
    public async Task FaceId_TwoPeople_EachInpaintCarriesOnlyThatPersonsIdentityUnit()
    {
        using var h = new PipelineHarness(mock: o =>
        {
            o.ControlNetUnitCount = 4;
            return o;
        });
        var request = h.Request("v4-faceid", TwoPeople(h)) with
        {
            Lora = null,
            ModelsDirectory = Models,
            StandInModels = true,
            People =
            [
                new PersonRequest(0, null, [FacePhoto(h, "anna.png", mirrored: false)]),
                new PersonRequest(1, LoraChoice.Parse("miaoya_demo_face"), [FacePhoto(h, "ben.png", mirrored: true)]),
            ],
        };

        var result = await h.Pipeline.RunAsync(request);

        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
        var identity = result.Manifest.Step("identity")!;
        Assert.Equal(["identity-face-0-1.png", "identity-face-1-1.png"], identity.Outputs.Select(o => o.File));
        Assert.Equal(["anna.png", "ben.png"], identity.ResultAs<IdentityResult>()!.People!.Select(p => p.Photos[0].Photo));
        var calls = result.Manifest.Step("inpaint")!.Request!["people"]!.AsArray();
        Assert.Equal(2, calls.Count);
        Assert.Equal("identity-face-0-1.png", calls[0]!["request"]!["alwayson_scripts"]!["controlnet"]!["args"]![0]!["image"]!["file"]!.GetValue<string>());
        Assert.Equal("identity-face-1-1.png", calls[1]!["request"]!["alwayson_scripts"]!["controlnet"]!["args"]![0]!["image"]!["file"]!.GetValue<string>());

        // The person with a LoRA has it in their call only.
        var sent = h.Received("/sdapi/v1/img2img");
        Assert.DoesNotContain("miaoya_demo_face", sent[0]["prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("<lora:miaoya_demo_face:", sent[1]["prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["person-0-face-1.png", "person-1-face-1.png"], result.Manifest.Inputs.People!.Select(p => p.Faces[0].File));
    }

    [Fact]
    public async Task AResumedTwoPersonRun_RebuildsEachPersonFromTheManifest_AndRedoesOnlyWhatIsMissing()
    {
        using var h = new PipelineHarness();
        var first = await h.Pipeline.RunAsync(TwoPersonV2(h));
        var manifestPath = Path.Combine(first.Folder, "manifest.json");

        // Drop detail's output (and final.png, so the run is not taken as done): detail runs again from the restored people.
        File.Delete(Path.Combine(first.Folder, "detail.png"));
        File.Delete(Path.Combine(first.Folder, StepRunner.FinalFileName));
        var calls = h.Count("/sdapi/v1/img2img");
        var again = await h.Pipeline.ResumeAsync(first.Folder);

        Assert.Equal(RunStatus.Succeeded, again.Manifest.Status);
        Assert.Equal(calls + 2, h.Count("/sdapi/v1/img2img")); // one detail call per face, no inpaint again
        var redone = h.Received("/sdapi/v1/img2img").TakeLast(2).ToArray();
        AssertOnlyLora(redone[0], "miaoya_demo_face", "add_detail");
        AssertOnlyLora(redone[1], "add_detail", "miaoya_demo_face");
        Assert.True(File.Exists(manifestPath));
    }

    [Fact]
    public async Task AResumedTwoPersonRun_WithoutItsInpaint_RendersEachFaceAgainFromTheRestoredMasksAndPrompts()
    {
        using var h = new PipelineHarness();
        var first = await h.Pipeline.RunAsync(TwoPersonV2(h, "v2"));
        var sentFirst = h.Received("/sdapi/v1/img2img");
        File.Delete(Path.Combine(first.Folder, "inpaint.png"));
        File.Delete(Path.Combine(first.Folder, StepRunner.FinalFileName));

        var again = await h.Pipeline.ResumeAsync(first.Folder);

        Assert.Equal(RunStatus.Succeeded, again.Manifest.Status);
        var redone = h.Received("/sdapi/v1/img2img").Skip(sentFirst.Count).ToArray();
        Assert.Equal(2, redone.Length); // the two inpaint calls; img2img's output is intact, so it is not redone
        Assert.Equal(sentFirst[0]["mask"]!.GetValue<string>(), redone[0]["mask"]!.GetValue<string>());
        Assert.Equal(sentFirst[1]["mask"]!.GetValue<string>(), redone[1]["mask"]!.GetValue<string>());
        AssertOnlyLora(redone[0], "miaoya_demo_face", "add_detail");
        AssertOnlyLora(redone[1], "add_detail", "miaoya_demo_face");
        Assert.Equal(1, h.Count("/tagger/v1/interrogate"));
    }

    [Fact]
    public async Task V3_TwoPeople_SwapsEachPersonsPhotoIntoTheirFace()
    {
        using var h = new PipelineHarness();
        var request = h.Request("v3", TwoPeople(h), ["faceswap.detector=blazeface"]) with
        {
            Lora = null,
            ModelsDirectory = Models,
            StandInModels = true,
            People =
            [
                new PersonRequest(0, null, [FacePhoto(h, "anna.png", mirrored: false)]),
                new PersonRequest(1, null, [FacePhoto(h, "ben.png", mirrored: true)]),
            ],
        };

        var result = await h.Pipeline.RunAsync(request);

        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
        var swap = result.Manifest.Step("faceswap")!;
        Assert.Equal(["faceswap.png", "faceswap-face-0.png", "faceswap-face-1.png"], swap.Outputs.Select(o => o.File));
        var swapped = swap.ResultAs<FaceSwapStepResult>()!;
        Assert.Equal([0, 1], swapped.People!.Select(p => p.FaceIndex));
        var left = Box(swapped.People![0].Face!);
        var right = Box(swapped.People[1].Face!);
        Assert.True(left.Right < 512 && right.Left > 512, $"faces at {left} and {right}");

        // The first swap changed the left half only, the second the right half only.
        using (var template = Image.Load<Rgb24>(Path.Combine(result.Folder, "template.png")))
        using (var one = Image.Load<Rgb24>(Path.Combine(result.Folder, "faceswap-face-0.png")))
        using (var two = Image.Load<Rgb24>(Path.Combine(result.Folder, "faceswap-face-1.png")))
        {
            AssertChangedInsideOnly(template, one, [Rectangle.Round(Grow(left))]);
            AssertChangedInsideOnly(one, two, [Rectangle.Round(Grow(right))]);
        }

        var sent = Assert.Single(h.Received("/sdapi/v1/img2img"));
        Assert.DoesNotContain("<lora:", sent["prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("faceswap.png", result.Manifest.Step("img2img")!.Request!["init_images"]![0]!["file"]!.GetValue<string>());
    }

    [Fact]
    public async Task EachPersonsTriggerWords_GoIntoTheirInpaintOnly_AndAResumedRunKeepsThem()
    {
        using var h = new PipelineHarness();
        var request = TwoPersonV2(h, "v2");
        request = request with
        {
            People = [request.People[0] with { TriggerWords = ["annaxyz"] }, request.People[1] with { TriggerWords = ["benqrs", "freckles"] }],
        };

        var first = await h.Pipeline.RunAsync(request);

        Assert.Equal(RunStatus.Succeeded, first.Manifest.Status);
        Assert.Equal([["annaxyz"], ["benqrs", "freckles"]], first.Manifest.Inputs.People!.Select(p => p.Trigger!));
        var prompts = first.Manifest.Step(StepName.Interrogate)!.ResultAs<InterrogateResult>()!;
        Assert.DoesNotContain("annaxyz", prompts.Prompt, StringComparison.Ordinal); // the whole-image pass carries no one's words
        var sent = h.Received("/sdapi/v1/img2img");
        AssertWords(sent[0], mine: ["annaxyz"], theirs: ["benqrs", "freckles"]);
        AssertWords(sent[1], mine: ["benqrs", "freckles"], theirs: ["annaxyz"]);
        AssertWords(sent[2], mine: [], theirs: ["annaxyz", "benqrs", "freckles"]); // V2's img2img

        // Resumed without its interrogate: the prompts are composed again from the manifest's people, words included.
        File.Delete(Path.Combine(first.Folder, "prompt.txt"));
        File.Delete(Path.Combine(first.Folder, "inpaint.png"));
        File.Delete(Path.Combine(first.Folder, StepRunner.FinalFileName));
        var again = await h.Pipeline.ResumeAsync(first.Folder);

        Assert.Equal(RunStatus.Succeeded, again.Manifest.Status);
        var redone = h.Received("/sdapi/v1/img2img").Skip(sent.Count).ToArray();
        AssertWords(redone[0], mine: ["annaxyz"], theirs: ["benqrs"]);
        AssertWords(redone[1], mine: ["benqrs", "freckles"], theirs: ["annaxyz"]);

        static void AssertWords(JsonNode call, string[] mine, string[] theirs)
        {
            var prompt = call["prompt"]!.GetValue<string>();
            Assert.All(mine, w => Assert.Contains(w, prompt, StringComparison.Ordinal));
            Assert.All(theirs, w => Assert.DoesNotContain(w, prompt, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("index", "two-people.png: --person 2 asked for, but 2 faces were found, counted from 0 left to right: 0 at x ")]
    [InlineData("twice", "--person 1: two people are given for face 1")]
    [InlineData("nothing", "--person 1: the person has neither a LoRA nor face photos")]
    [InlineData("lora", "--person gives each person their own LoRA and face photos")]
    [InlineData("face-index", "--face-index picks the one face of a one-person run")]
    [InlineData("candidates", "with several people no one image is most like all of them")]
    [InlineData("trigger-without-lora", "--person 1: trigger words are given but no LoRA")]
    [InlineData("trigger-syntax", "--person 1: trigger '<lora:x:1>': '<' is prompt syntax")]
    [InlineData("run-trigger", "with --person give each person their LoRA's trigger words with --person-trigger INDEX=WORD")]
    public async Task BadPeople_AreRefusedBeforeAnyCall_NamingWhatIsWrong(string what, string expected)
    {
        using var h = new PipelineHarness();
        var request = TwoPersonV2(h, "v2");
        request = what switch
        {
            "index" => request with { People = [request.People[0], request.People[1] with { FaceIndex = 2 }] },
            "twice" => request with { People = [request.People[0] with { FaceIndex = 1 }, request.People[1]] },
            "nothing" => request with { People = [request.People[0], new PersonRequest(1, null, [])] },
            "lora" => request with { Lora = LoraChoice.Parse("miaoya_demo_face") },
            "face-index" => request with { FaceIndex = 0 },
            "trigger-without-lora" => request with { People = [request.People[0], new PersonRequest(1, null, [FacePhoto(h, "ben.png", mirrored: true)]) { TriggerWords = ["benqrs"] }] },
            "trigger-syntax" => request with { People = [request.People[0], request.People[1] with { TriggerWords = ["<lora:x:1>"] }] },
            "run-trigger" => request with { TriggerWords = ["annaxyz"] },
            _ => request with { Recipe = RecipeLoader.Load(PipelineHarness.RecipePath("v2"), ["candidates.count=2"]) },
        };

        var e = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(request));

        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), e.Message);
        Assert.NotNull(e.InputField);
        Assert.Equal(0, h.Count("/sdapi/v1/img2img"));
        Assert.Equal(0, h.Count("/tagger/v1/interrogate"));
    }

    [Fact]
    public async Task APersonsLoraTheBoxLacks_IsTheRunsInput_NamedByPerson_BeforeAnyGeneration()
    {
        using var h = new PipelineHarness();
        var request = TwoPersonV2(h, "v2");
        request = request with { People = [request.People[0], request.People[1] with { Lora = LoraChoice.Parse("nobody_face") }] };

        var e = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(request));

        Assert.Contains("--person: LoRA \"nobody_face\" is not on the box", e.Message, StringComparison.Ordinal);
        Assert.Equal("person", e.InputField);
        Assert.Equal(0, h.Count("/sdapi/v1/img2img"));
    }

    private static RectangleF Box(FaceRecord face) => new(face.Box[0], face.Box[1], face.Box[2], face.Box[3]);

    private static RectangleF Grow(RectangleF r) => RectangleF.Inflate(r, r.Width * 0.6f, r.Height * 0.6f);

    private static void AssertOnlyLora(JsonNode sent, string mine, string theirs)
    {
        var prompt = sent["prompt"]!.GetValue<string>();
        Assert.Contains($"<lora:{mine}:", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain(theirs, prompt, StringComparison.Ordinal);
    }

    /// <summary>The mask is white somewhere on <paramref name="mine"/> and black everywhere on and around <paramref name="theirs"/>.</summary>
    private static void AssertMaskOver(JsonNode mask, RectangleF mine, RectangleF theirs)
    {
        using var image = Decode(mask);
        var centre = image[(int)(mine.X + (mine.Width / 2)), (int)(mine.Y + (mine.Height / 2))];
        Assert.True(centre.R > 200, $"mask at the person's face centre is {centre.R}");
        var around = Rectangle.Intersect(Rectangle.Round(Grow(theirs)), new Rectangle(0, 0, image.Width, image.Height));
        for (var y = around.Top; y < around.Bottom; y++)
        {
            for (var x = around.Left; x < around.Right; x++)
            {
                Assert.True(image[x, y].R == 0, $"mask is {image[x, y].R} at {x},{y}, on the other person's face");
            }
        }
    }

    private static void AssertChangedOnlyUnderMask(string folder, string beforeFile, string afterFile, string maskFile)
    {
        using var before = Image.Load<Rgb24>(Path.Combine(folder, beforeFile));
        using var after = Image.Load<Rgb24>(Path.Combine(folder, afterFile));
        using var mask = Image.Load<L8>(Path.Combine(folder, maskFile));
        var (outside, inside) = (0, 0);
        for (var y = 0; y < before.Height; y++)
        {
            for (var x = 0; x < before.Width; x++)
            {
                if (!before[x, y].Equals(after[x, y]))
                {
                    _ = mask[x, y].PackedValue == 0 ? outside++ : inside++;
                }
            }
        }

        Assert.Equal(0, outside);
        Assert.True(inside > 100, $"only {inside} pixels changed under {maskFile}");
    }

    private static void AssertChangedInsideOnly(Image<Rgb24> before, Image<Rgb24> after, Rectangle[] regions)
    {
        var inside = new int[regions.Length];
        var outside = 0;
        for (var y = 0; y < before.Height; y++)
        {
            for (var x = 0; x < before.Width; x++)
            {
                if (before[x, y].Equals(after[x, y]))
                {
                    continue;
                }

                var at = Array.FindIndex(regions, r => r.Contains(x, y));
                _ = at < 0 ? outside++ : inside[at]++;
            }
        }

        Assert.Equal(0, outside);
        Assert.All(inside, n => Assert.True(n > 100, $"only {n} pixels of a face region changed"));
    }

    private static Image<Rgb24> Decode(JsonNode image) => Image.Load<Rgb24>(Convert.FromBase64String(Base64(image)));

    private static string Base64(JsonNode image)
    {
        var text = image.GetValue<string>();
        var comma = text.IndexOf(',', StringComparison.Ordinal);
        return comma >= 0 ? text[(comma + 1)..] : text;
    }

    private static (int, int) SizeOf(JsonNode image)
    {
        using var decoded = Decode(image);
        return (decoded.Width, decoded.Height);
    }

    private static string Pixels(string path)
    {
        using var image = Image.Load<Rgb24>(path);
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes));
    }
}
