using System.CommandLine;
using System.Globalization;
using Miaoya.Faces;
using Miaoya.IdPhoto;
using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Cli.Commands;

/// <summary>
/// <c>miaoya idphoto IMAGE --spec NAME ...</c> (finish a photo: crop, background, DPI, size, sheet, verdict),
/// <c>miaoya idphoto check IMAGE --spec NAME</c> (the verdict alone) and <c>miaoya idphoto specs</c> (the sizes).
/// </summary>
internal static class IdPhotoCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var image = new Argument<FileInfo>("IMAGE") { Description = "The photo (PNG, JPEG or WebP; one person, frontal)" };
        var spec = SpecOption();
        var background = new Option<string?>("--background")
        {
            Description = "keep, white, blue, red, off-white, light-grey, #RRGGBB or gradient:TOP:BOTTOM. Anything but keep is done through the box's rembg extension and needs --webui; default: white with --webui, keep without",
        };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the photo, mask.png, the sheet and verdict.json", Required = true };
        var webui = CliOptions.WebUi("Base URL of a WebUI box with the rembg extension, for the background (none by default: the background is kept)");
        var auth = CliOptions.Auth();
        var dpi = DpiOption();
        var kb = new Option<int?>("--kb") { Description = "Largest file size in KB (JPEG quality is searched; says so when impossible); default: the spec's limit" };
        var sheet = new Option<string?>("--sheet") { Description = "Also lay copies out on a print sheet: 6inch (4R, 152×102 mm) or a4, at the photo's DPI" };
        sheet.AcceptOnlyFromAmong("6inch", "a4");
        var format = new Option<string?>("--format") { Description = "jpeg or png; default: the spec's first format" };
        format.AcceptOnlyFromAmong("jpeg", "png");
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every WebUI call" };
        var command = new Command(
            "idphoto",
            "Finish an ID photo: eyes levelled, head sized and placed for the spec, background replaced (rembg on the box), DPI in the file, optional size target and print sheet, then the compliance verdict. Document-safe: nothing generative runs.")
        {
            image, spec, background, output, webui, auth, dpi, kb, sheet, format, verbose,
            CheckCommand(),
            SpecsCommand(),
        };
        command.Options.Add(CliOptions.AuthFile());
        command.SetAction((result, cancellationToken) => WebUiSession.RunAsync(async () =>
        {
            var idSpec = await FindSpecAsync(result.GetValue(spec)!);
            if (idSpec is null || await BadNumbersAsync(result.GetValue(dpi), result.GetValue(kb)))
            {
                return 2;
            }

            var webuiUrl = result.GetValue(webui);
            BackgroundFill fill;
            try
            {
                fill = BackgroundFill.Parse(result.GetValue(background) ?? (webuiUrl is null ? "keep" : "white"));
            }
            catch (FormatException e)
            {
                await Console.Error.WriteLineAsync($"error: --background: {e.Message}");
                return 2;
            }

            if (!fill.Keep && webuiUrl is null)
            {
                await Console.Error.WriteLineAsync($"error: --background {result.GetValue(background)}: replacing the background needs a WebUI box with the rembg extension (--webui URL); or use --background keep.");
                return 2;
            }

            using var photo = await LoadAsync(result.GetValue(image)!, cancellationToken);
            if (photo is null)
            {
                return 2;
            }

            var options = new FinishOptions
            {
                Spec = idSpec,
                Background = fill,
                Dpi = result.GetValue(dpi),
                Format = result.GetValue(format) switch { "png" => PhotoFormat.Png, "jpeg" => PhotoFormat.Jpeg, _ => null },
                MaxKb = result.GetValue(kb),
                Sheet = result.GetValue(sheet) is { } s ? SheetSize.Parse(s) : null,
            };
            using var session = webuiUrl is null ? null : new WebUiSession(CliOptions.Endpoint(result, webuiUrl), result.GetValue(verbose));
            using var detector = BlazeFaceDetector.CreateDefault();
            FinishResult finished;
            try
            {
                finished = await IdPhotoFinisher.FinishAsync(photo, options, detector, session?.Client, cancellationToken);
            }
            catch (IdPhotoException e)
            {
                await Console.Error.WriteLineAsync($"error: {result.GetValue(image)!.FullName}: {e.Message}");
                return 2;
            }

            var path = await finished.WriteToAsync(result.GetValue(output)!.FullName, result.GetValue(sheet), cancellationToken);
            foreach (var warning in finished.Warnings)
            {
                Console.WriteLine($"warning: {warning}");
            }

            var (w, h) = idSpec.PixelSize(finished.Dpi);
            Console.WriteLine(string.Create(Inv, $"Photo: {path} ({w}×{h} px, {idSpec.WidthMm}×{idSpec.HeightMm} mm at {finished.Dpi} dpi, {finished.Photo.Kilobytes:0.0} KB{(finished.Photo.Quality is { } q ? $", JPEG quality {q}" : string.Empty)}; background {fill})"));
            if (finished.Photo.SizeNote is { } note)
            {
                Console.WriteLine($"Size: {note}");
            }

            if (finished.Layout is { } layout)
            {
                Console.WriteLine(string.Create(Inv, $"Sheet: {Path.Combine(result.GetValue(output)!.FullName, $"sheet-{result.GetValue(sheet)}.jpg")} ({layout.SheetWidth}×{layout.SheetHeight} px, {layout.Count} copies as {layout.Columns}×{layout.Rows}, gaps {layout.Gap} px, crop marks)"));
            }

            Console.Write(finished.Verdict.ToTable());
            return finished.Verdict.Passed ? 0 : 1;
        }));
        return command;
    }

    private static Command CheckCommand()
    {
        var image = new Argument<FileInfo>("IMAGE") { Description = "The finished photo to check" };
        var spec = SpecOption();
        var dpi = DpiOption();
        var json = new Option<bool>("--json") { Description = "Print the verdict as JSON instead of a table" };
        var kb = new Option<int?>("--kb") { Description = "Also require the file to be at most this many KB" };
        var command = new Command("check", "Check a photo against a spec, rule by rule (pixel size, DPI, format, file size, one face, head height, top margin, eye line, centring, roll, background). Exit 0 pass, 1 fail.")
        {
            image, spec, dpi, json, kb,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var idSpec = await FindSpecAsync(result.GetValue(spec)!);
            if (idSpec is null || await BadNumbersAsync(result.GetValue(dpi), result.GetValue(kb)))
            {
                return 2;
            }

            var file = result.GetValue(image)!;
            byte[] bytes;
            try
            {
                // Bounded, PNG/JPEG/WebP by content only (a GIF, BMP or TIFF is refused here, before any decoder sees it).
                bytes = (await EncodedImage.ReadFileAsync(file.FullName, cancellationToken)).Bytes.ToArray();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidImageDataException)
            {
                await Console.Error.WriteLineAsync(e.Message.StartsWith(file.FullName, StringComparison.Ordinal) ? $"error: {e.Message}" : $"error: {file.FullName}: {e.Message}");
                return 2;
            }

            using var detector = BlazeFaceDetector.CreateDefault();
            ComplianceReport report;
            try
            {
                report = ComplianceChecker.Check(bytes, file.Name, idSpec, detector, result.GetValue(dpi), maxKb: result.GetValue(kb), cancellationToken: cancellationToken);
            }
            catch (InvalidImageDataException e)
            {
                await Console.Error.WriteLineAsync($"error: {file.FullName}: {e.Message}");
                return 2;
            }

            Console.Write(result.GetValue(json) ? report.ToJson() + Environment.NewLine : report.ToTable());
            return report.Passed ? 0 : 1;
        });
        return command;
    }

    private static Command SpecsCommand()
    {
        var command = new Command("specs", "List the ID-photo specs with their sizes in millimetres and pixels.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"{"name",-18}{"mm",-13}{"300 dpi",-10}{"254 dpi",-10}{"350 dpi",-10}{"head",-13}{"backgrounds",-28}title");
            foreach (var s in IdSpecs.BuiltIn)
            {
                string Px(int d)
                {
                    var (w, h) = s.PixelSize(d);
                    return string.Create(Inv, $"{w}×{h}");
                }

                Console.WriteLine(string.Create(Inv, $"{s.Name,-18}{$"{s.WidthMm}×{s.HeightMm}",-13}{Px(300),-10}{Px(254),-10}{Px(350),-10}{s.HeadHeight,-13}{string.Join(",", s.Backgrounds),-28}{s.Title}"));
            }

            Console.WriteLine("Sources are in each recipes/id-specs/NAME.yaml; a spec file of the same shape can be given to --spec.");
            return 0;
        });
        return command;
    }

    private static Option<string> SpecOption() => new("--spec")
    {
        Description = $"A spec name ({string.Join(", ", IdSpecs.BuiltInNames)}) or a spec .yaml file",
        Required = true,
    };

    private static Option<int?> DpiOption() => new("--dpi") { Description = "300 (default), 254 or 350" };

    /// <summary>Checked in the action, not as a parse error, so a wrong value is exit code 2 (bad input) like the others.</summary>
    private static async Task<bool> BadNumbersAsync(int? dpi, int? kb)
    {
        if (dpi is { } d && !IdSpec.SupportedDpis.Contains(d))
        {
            await Console.Error.WriteLineAsync($"error: --dpi: {d} is not supported; use {string.Join(", ", IdSpec.SupportedDpis)}.");
            return true;
        }

        if (kb is <= 0)
        {
            await Console.Error.WriteLineAsync("error: --kb: give a size above 0.");
            return true;
        }

        return false;
    }

    private static async Task<IdSpec?> FindSpecAsync(string name)
    {
        try
        {
            return IdSpecs.Find(name);
        }
        catch (IdSpecException e)
        {
            await Console.Error.WriteLineAsync($"error: --spec: {e.Message}");
            return null;
        }
    }

    private static async Task<Image<Rgb24>?> LoadAsync(FileInfo file, CancellationToken cancellationToken)
    {
        try
        {
            return await FaceImages.LoadAsync(await EncodedImage.ReadFileAsync(file.FullName, cancellationToken), cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidImageDataException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync(e.Message.StartsWith(file.FullName, StringComparison.Ordinal) ? $"error: {e.Message}" : $"error: {file.FullName}: {e.Message}");
            return null;
        }
    }
}
