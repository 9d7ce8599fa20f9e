using System.CommandLine;
using System.Globalization;
using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.MockWebUi;
using Miaoya.Pipeline;
using Miaoya.Recipes;
using Miaoya.WebUi;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Cli.Commands;

/// <summary>
/// <c>miaoya demo</c>: V1 (face), V1 (face+neck) and V2 on the bundled template photo, against an in-process mock WebUI
/// unless <c>--webui</c> names a real box; writes the run folders and an index.html report.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The bundled astronaut portrait (Assets/README.md); doctor --deep runs the identity preprocessors on it too.</summary>
    internal const string TemplateResource = "template-astronaut.png";
    private static readonly string[] Recipes = ["v1-face", "v1-face-neck", "v2", "v2-finish", "v3"];

    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the runs and index.html", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("out", "demo")) };
        var template = new Option<FileInfo?>("--template") { Description = "Template photo (PNG/JPEG/WebP); default: the bundled astronaut portrait" };
        var webui = CliOptions.WebUi("Base URL of a real WebUI box to run the demo on (default: an in-process mock)");
        var auth = CliOptions.Auth();
        var profile = CliOptions.Profile();
        var lora = new Option<string>("--lora") { Description = "Face LoRA as NAME[:WEIGHT] (the mock offers miaoya_demo_face)", DefaultValueFactory = _ => "miaoya_demo_face:0.9" };
        var seed = new Option<long>("--seed") { Description = "Generation seed", DefaultValueFactory = _ => 42 };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every call" };
        var command = new Command("demo", "Run V1 (face), V1 (face+neck), V2, V2 with the finishing passes (detail, restore, upscale), V3 (stand-in face models) and, on the mock, v4-faceid (best of 2 by likeness) end to end and write an HTML report (in-process mock WebUI unless --webui is given).")
        {
            output, template, webui, auth, profile, lora, seed, verbose,
        };
        command.Options.Add(CliOptions.AuthFile());
        command.SetAction((result, cancellationToken) => WebUiSession.RunAsync(async () =>
        {
            var stamp = TimeProvider.System.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
            var folder = Path.Combine(result.GetValue(output)!.FullName, stamp);
            Directory.CreateDirectory(folder);
            var templatePath = result.GetValue(template)?.FullName ?? await WriteBundledTemplateAsync(folder, cancellationToken);

            // V3 needs a second photo: the bundled portrait mirrored stands in for "the person".
            var facePath = Path.Combine(folder, "face-photo.png");
            try
            {
                using var mirrored = await FaceImages.LoadAsync(await EncodedImage.ReadFileAsync(templatePath, cancellationToken), cancellationToken);
                mirrored.Mutate(c => c.Flip(FlipMode.Horizontal));
                await EncodedImage.FromPng(mirrored).WriteFileAtomicallyAsync(facePath, cancellationToken);
            }
            catch (InvalidImageDataException e)
            {
                await Console.Error.WriteLineAsync($"error: --template: {e.Message}");
                return 2;
            }

            var profileValue = result.GetValue(profile);
            // Four unit slots, so v4-faceid's identity unit fits beside V1's three (a real box needs the same setting).
            using var mock = result.GetValue(webui) is null ? MockWebUiServer.Start(new MockWebUiOptions { Port = 0, Profile = profileValue, ControlNetUnitCount = 4 }) : null;
            var endpoint = mock is null ? CliOptions.Endpoint(result, result.GetValue(webui)) : WebUiEndpoint.WithAuth(mock.Url, CliOptions.Credentials(result));
            if (mock is not null)
            {
                Console.WriteLine($"Started a mock WebUI ({MockWebUiCommand.ProfileName(profileValue)}) at {mock.Url}");
            }

            using var session = new WebUiSession(endpoint, result.GetValue(verbose));
            var runs = new List<RunResult>();

            // v4-faceid (identity from the face photo, best of 2 by likeness with the stand-in scorer) needs FaceID's
            // models on the box: the in-process mock has them; a real box runs it with `miaoya run v4-faceid`.
            string[] recipes = mock is null ? Recipes : [.. Recipes, "v4-faceid"];
            if (mock is null)
            {
                Console.WriteLine("v4-faceid is left out on a real box (it needs the FaceID models there); try it with: miaoya run v4-faceid --face PHOTO");
            }

            foreach (var name in recipes)
            {
                // V3 needs no override: with the stand-in det_10g.onnx (it finds only white squares) the faceswap step detects with BlazeFace.
                string[] overrides = name == "v4-faceid" ? ["candidates.count=2"] : [];
                var standIns = name is "v3" or "v4-faceid";
                var recipe = RecipeLoader.Load(name, overrides);
                var run = await session.Pipeline.RunAsync(
                    new RunRequest
                    {
                        Recipe = recipe,
                        Overrides = overrides,
                        TemplatePath = templatePath,
                        Lora = name == "v4-faceid" ? null : LoraChoice.Parse(result.GetValue(lora)!),
                        Seed = result.GetValue(seed),
                        OutputDirectory = Path.Combine(folder, name),
                        FacePath = standIns ? facePath : null,
                        ModelsDirectory = standIns ? Path.Combine(AppContext.BaseDirectory, "stand-in-models") : null,
                        StandInModels = standIns,
                    },
                    new ConsoleProgress(name),
                    cancellationToken);
                RunCommand.Print(run);
                runs.Add(run);
            }

            var banner = mock is null
                ? null
                : $"These runs went to Miaoya's mock WebUI ({MockWebUiCommand.ProfileName(profileValue)}), not a real box: it does not diffuse, it tints the area it was asked to repaint and returns simple stand-in ControlNet maps, so the pictures show where each step acts and what was sent, not what a checkpoint renders.";
            var report = await HtmlReport.WriteAsync(Path.Combine(folder, "index.html"), runs, banner, cancellationToken);
            Console.WriteLine($"Report: {report}");
            return 0;
        }));
        return command;
    }

    private static async Task<string> WriteBundledTemplateAsync(string folder, CancellationToken cancellationToken)
    {
        await using var stream = typeof(DemoCommand).Assembly.GetManifestResourceStream(TemplateResource)
            ?? throw new InvalidOperationException($"embedded resource {TemplateResource} is missing from the build.");
        var path = Path.Combine(folder, TemplateResource);
        await using var file = File.Create(path);
        await stream.CopyToAsync(file, cancellationToken);
        return path;
    }
}
