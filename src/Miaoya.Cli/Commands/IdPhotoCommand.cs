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
            Description = "keep, white, blue, red, off-white, light-grey, #RRGGBB or gradient:TOP:BOTTOM, among the colours the spec allows (idphoto specs lists them). Anything but keep is done through the box's rembg extension and needs --webui; default: the spec's first colour with --webui, keep without",
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
        var faceIndex = new Option<int?>("--face-index") { Description = "Which face of a photo with several, counted from 0 left to right (as --person counts); without it the photo must show one face" };
        var command = new Command(
            "idphoto",
            "Finish an ID photo: eyes levelled, head sized and placed for the spec, background replaced (rembg on the box), DPI in the file, optional size target and print sheet, then the compliance verdict. Document-safe: nothing generative runs.")
        {
            image, spec, background, output, webui, auth, dpi, kb, sheet, format, verbose, faceIndex,
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

            if (result.GetValue(faceIndex) is < 0)
            {
                await Console.Error.WriteLineAsync(string.Create(Inv, $"error: --face-index {result.GetValue(faceIndex)}: faces are counted from 0 (the leftmost face)."));
                return 2;
            }

            var webuiUrl = result.GetValue(webui);
            BackgroundFill fill;
            try
            {
                fill = BackgroundFill.Parse(result.GetValue(background) ?? (webuiUrl is null ? "keep" : idSpec.Backgrounds[0]));
            }
            catch (FormatException e)
            {
                await Console.Error.WriteLineAsync($"error: --background: {e.Message}");
                return 2;
            }

            // Before the photo is read or the box called: a colour the spec forbids is a wrong request, not a failed verdict.
            if (idSpec.BackgroundProblem(fill) is { } forbidden)
            {
                await Console.Error.WriteLineAsync($"error: --background {result.GetValue(background)}: {forbidden}");
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
                FaceIndex = result.GetValue(faceIndex),
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
        var images = new Argument<FileInfo[]>("IMAGE") { Description = "The finished photo(s) to check", Arity = ArgumentArity.OneOrMore };
        var spec = SpecOption();
        var dpi = DpiOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON object per photo (one a line) instead of a table: every rule with its value, limits, pass/fail and fix hint; numbers as numbers" };
        var kb = new Option<int?>("--kb") { Description = "Also require the file to be at most this many KB" };
        var mask = new Option<FileInfo?>("--mask")
        {
            Description = "The person matte (white = person) for the rim rule, with one photo; default: mask.png beside the photo when idphoto wrote one there (without a matte the rim rule is skipped)",
        };
        var command = new Command("check", "Check photos against a spec, rule by rule (pixel size, DPI, format, file size, one face, head height, top margin, eye line, centring, roll, background uniformity, colour and rim), with a fix for every failed rule. Exit 0 all pass, 1 a photo fails, 2 bad input.")
        {
            images, spec, dpi, json, kb, mask,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var idSpec = await FindSpecAsync(result.GetValue(spec)!);
            if (idSpec is null || await BadNumbersAsync(result.GetValue(dpi), result.GetValue(kb)))
            {
                return 2;
            }

            var files = result.GetValue(images)!;
            var maskFile = result.GetValue(mask);
            if (maskFile is not null && files.Length > 1)
            {
                await Console.Error.WriteLineAsync("error: --mask: give it with one photo (each photo has its own matte; mask.png beside each photo is found without it).");
                return 2;
            }

            // Every file is read first, so a missing or unreadable one is bad input before any verdict is printed.
            var inputs = new List<(FileInfo File, byte[] Bytes, Image<L8>? Matte, string? MatteSource)>();
            try
            {
                foreach (var file in files)
                {
                    if (await ReadCheckedAsync(file, cancellationToken) is not { } bytes)
                    {
                        return 2;
                    }

                    var matteFile = maskFile ?? new FileInfo(Path.Combine(file.DirectoryName ?? ".", "mask.png"));
                    Image<L8>? matte = null;
                    if (maskFile is not null || (matteFile.Exists && !string.Equals(matteFile.FullName, file.FullName, StringComparison.Ordinal)))
                    {
                        matte = await ReadMatteAsync(matteFile, explicitly: maskFile is not null, cancellationToken);
                        if (matte is null && maskFile is not null)
                        {
                            return 2;
                        }

                        // A mask.png found beside the photo that is not its size belongs to another photo: no matte then.
                        if (matte is not null && maskFile is null && Image.Identify(ImageMemory.Decoding, bytes, out _) is { } info && (info.Width, info.Height) != (matte.Width, matte.Height))
                        {
                            matte.Dispose();
                            matte = null;
                        }
                    }

                    inputs.Add((file, bytes, matte, matte is null ? null : maskFile is null ? "mask.png beside the photo" : matteFile.Name));
                }

                var failed = false;
                var detector = BlazeFaceDetector.CreateDefault();
                using (detector)
                {
                    foreach (var (file, bytes, matte, matteSource) in inputs)
                    {
                        ComplianceReport report;
                        try
                        {
                            report = ComplianceChecker.Check(bytes, file.Name, idSpec, detector, result.GetValue(dpi), maxKb: result.GetValue(kb), matte: matte, matteSource: matteSource, cancellationToken: cancellationToken);
                        }
                        catch (InvalidImageDataException e)
                        {
                            await Console.Error.WriteLineAsync($"error: {file.FullName}: {e.Message}");
                            return 2;
                        }

                        failed |= !report.Passed;
                        Console.Write(result.GetValue(json) ? report.ToJson(indented: false) + Environment.NewLine : report.ToTable());
                    }
                }

                return failed ? 1 : 0;
            }
            finally
            {
                inputs.ForEach(i => i.Matte?.Dispose());
            }
        });
        return command;
    }

    /// <summary>A photo to check: bounded, PNG/JPEG/WebP by content only (a GIF, BMP or TIFF is refused here, before any decoder sees it).</summary>
    private static async Task<byte[]?> ReadCheckedAsync(FileInfo file, CancellationToken cancellationToken)
    {
        try
        {
            return (await EncodedImage.ReadFileAsync(file.FullName, cancellationToken)).Bytes.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidImageDataException)
        {
            await Console.Error.WriteLineAsync(e.Message.StartsWith(file.FullName, StringComparison.Ordinal) ? $"error: {e.Message}" : $"error: {file.FullName}: {e.Message}");
            return null;
        }
    }

    /// <summary>A matte as grey levels (an RGBA cut-out by its alpha); an unreadable one found beside the photo is passed over, one given with --mask is an error.</summary>
    private static async Task<Image<L8>?> ReadMatteAsync(FileInfo file, bool explicitly, CancellationToken cancellationToken)
    {
        try
        {
            var encoded = await EncodedImage.ReadFileAsync(file.FullName, cancellationToken);
            using var rgba = await encoded.DecodeAsync(cancellationToken);
            var matte = PersonMattes.FromImage(rgba);
            return matte;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidImageDataException)
        {
            if (explicitly)
            {
                await Console.Error.WriteLineAsync(e.Message.StartsWith(file.FullName, StringComparison.Ordinal) ? $"error: --mask: {e.Message}" : $"error: --mask: {file.FullName}: {e.Message}");
            }

            return null;
        }
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
