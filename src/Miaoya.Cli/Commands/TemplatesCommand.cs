using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Miaoya.Limits;
using Miaoya.Recipes;
using Miaoya.Templates;

namespace Miaoya.Cli.Commands;

/// <summary><c>miaoya templates list|show|check|add|gallery</c>: the template library (docs/templates.md).</summary>
internal static class TemplatesCommand
{
    public static Command Create() => new("templates", "The template library: photos with suggested recipe, overrides, style LoRA and licence, usable as --template NAME.")
    {
        List(), Show(), Check(), Add(), Gallery(),
    };

    private static Command List()
    {
        var tag = new Option<string?>("--tag") { Description = "Only templates with this tag" };
        var json = new Option<bool>("--json") { Description = "Print a JSON array of the templates (the shape of show --json each)" };
        var library = TemplateCli.LibraryOption();
        var command = new Command("list", "List the library's templates (name, people, model family, suggested recipe, title, tags).") { tag, json, library };
        command.SetAction(async (result, _) =>
        {
            var lib = TemplateCli.Library(result.GetValue(library));
            if (!Directory.Exists(lib.Directory))
            {
                await Console.Error.WriteLineAsync($"error: no template library at {lib.Directory} (--templates DIR, or Templates:Directory in miaoya.json)");
                return 2;
            }

            var (templates, problems) = lib.Load();
            var wanted = result.GetValue(tag);
            var shown = templates.Where(t => wanted is null || t.Tags.Contains(wanted, StringComparer.OrdinalIgnoreCase)).ToList();
            foreach (var problem in problems)
            {
                await Console.Error.WriteLineAsync("skipped: " + UserText.EscapeControl(problem.ToString()));
            }

            if (result.GetValue(json))
            {
                Console.WriteLine(CliJson.Write(new JsonArray(shown.Select(t => (JsonNode)ToJson(t)).ToArray())));
                return 0;
            }

            Console.WriteLine($"{lib.Directory}: {shown.Count} template{(shown.Count == 1 ? "" : "s")}{(wanted is null ? "" : $" tagged {UserText.Quote(wanted)}")}");
            if (shown.Count > 0)
            {
                var rows = shown.Select(t => new[] { t.Name, t.People.ToString(CultureInfo.InvariantCulture), RecipeYaml.Word(t.ModelFamily), t.Recipe ?? "-", t.Title, string.Join(", ", t.Tags) }).ToList();
                string[] header = ["name", "people", "family", "recipe", "title", "tags"];
                var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
                Console.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
                foreach (var row in rows)
                {
                    Console.WriteLine(string.Join("  ", row.Select((c, i) => UserText.EscapeControl(c).PadRight(widths[i]))).TrimEnd());
                }
            }

            return 0;
        });
        return command;
    }

    private static Command Show()
    {
        var name = new Argument<string>("name") { Description = "The template's name" };
        var json = new Option<bool>("--json") { Description = "Print the template as one JSON object" };
        var library = TemplateCli.LibraryOption();
        var command = new Command("show", "Show one template's metadata, its files and how a run uses it.") { name, json, library };
        command.SetAction(async (result, _) =>
        {
            LibraryTemplate t;
            try
            {
                t = TemplateCli.Library(result.GetValue(library)).Get(result.GetValue(name)!);
            }
            catch (TemplateException e)
            {
                await Console.Error.WriteLineAsync("error: " + UserText.EscapeControl(e.Message));
                return 2;
            }

            if (result.GetValue(json))
            {
                Console.WriteLine(CliJson.Write(ToJson(t)));
                return 0;
            }

            Console.WriteLine($"{t.Name}: {t.Title}");
            Console.WriteLine($"  image:        {t.ImagePath}");
            Console.WriteLine($"  metadata:     {t.MetadataPath}");
            Console.WriteLine($"  tags:         {(t.Tags.Count == 0 ? "-" : string.Join(", ", t.Tags))}");
            Console.WriteLine($"  people:       {t.People}{(t.Hints.Count == 0 ? "" : $" ({string.Join(", ", t.Hints)})")}");
            Console.WriteLine($"  model family: {RecipeYaml.Word(t.ModelFamily)}");
            Console.WriteLine($"  recipe:       {t.Recipe ?? "(none suggested: give one to run)"}");
            Console.WriteLine($"  overrides:    {(t.Overrides.Count == 0 ? "-" : string.Join(" ", t.Overrides))}");
            Console.WriteLine($"  style LoRA:   {(t.StyleLora is { } lora ? TemplateRun.LoraTag(lora) : "-")}");
            Console.WriteLine($"  prompt +:     {(t.PositiveAdd.Length == 0 ? "-" : t.PositiveAdd)}");
            Console.WriteLine($"  negative +:   {(t.NegativeAdd.Length == 0 ? "-" : t.NegativeAdd)}");
            Console.WriteLine($"  licence:      {t.Licence.Name}, {t.Licence.Author} ({t.Licence.Source})");
            Console.WriteLine($"Run it: miaoya run {(t.Recipe is null ? "RECIPE " : "")}--template {t.Name} --lora NAME[:WEIGHT]");
            return 0;
        });
        return command;
    }

    private static Command Check()
    {
        var folder = new Argument<DirectoryInfo?>("dir") { Description = $"The library folder to check ({TemplateCli.LibraryDefault})", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("check", "Check a template library: metadata (file:line:column), images decode, faces match people, suggested recipe loads with the overrides.") { folder };
        command.SetAction(async (result, cancellationToken) =>
        {
            var lib = TemplateCli.Library(result.GetValue(folder));
            var problems = await lib.CheckAsync(cancellationToken);
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await Console.Error.WriteLineAsync(UserText.EscapeControl(problem.ToString()));
                }

                await Console.Error.WriteLineAsync($"{lib.Directory}: {problems.Count} problem{(problems.Count == 1 ? "" : "s")}");
                return 2;
            }

            var count = lib.Names().Count;
            Console.WriteLine($"{lib.Directory}: ok ({count} template{(count == 1 ? "" : "s")}: metadata, images, face counts and suggested recipes)");
            return 0;
        });
        return command;
    }

    private static Command Add()
    {
        var image = new Argument<FileInfo>("image") { Description = "The template photo (PNG, JPEG or WebP); it is copied into the library" };
        var name = new Option<string>("--name") { Description = "The template's name: lower-case letters, digits, '-' and '_'", Required = true };
        var title = new Option<string>("--title") { Description = "A short title", Required = true };
        var licence = new Option<string>("--licence") { Description = "The image's licence, e.g. CC0-1.0, CC-BY-4.0, public domain", Required = true };
        var source = new Option<string>("--source") { Description = "The http(s) URL the image came from", Required = true };
        var author = new Option<string>("--author") { Description = "Who made the image", Required = true };
        var tags = new Option<string[]>("--tag") { Description = "A tag (repeatable, or comma-separated)" };
        var people = new Option<int?>("--people") { Description = "How many faces (default: counted by the face detector; a different count is refused)" };
        var hints = new Option<string[]>("--hint") { Description = "A face's hint as GENDER/AGE (female|male|any / child|teen|adult|senior|any), one per face, largest first" };
        var family = new Option<string>("--family") { Description = "sd15 or sdxl", DefaultValueFactory = _ => "sd15" };
        family.AcceptOnlyFromAmong("sd15", "sdxl");
        var recipe = new Option<string?>("--recipe") { Description = "The suggested recipe: a built-in name, or a .yaml file relative to the library" };
        var set = new Option<string[]>("--set") { Description = "An override the template suggests, path=value (repeatable)" };
        var lora = new Option<string?>("--style-lora") { Description = "A style LoRA as NAME:WEIGHT (weight 0..2)" };
        var positive = new Option<string?>("--positive-add") { Description = "Text added to the recipe's positive prompt" };
        var negative = new Option<string?>("--negative-add") { Description = "Text added to the recipe's negative prompt" };
        var force = new Option<bool>("--force") { Description = "Replace a template of the same name" };
        var library = new Option<DirectoryInfo?>("--templates") { Description = "The library to add to (default: Templates:Directory of the configuration, else ./templates, created if missing)", HelpName = "DIR" };
        var command = new Command("add", "Add a photo to the library with a checked metadata file (both written atomically).")
        {
            image, name, title, licence, source, author, tags, people, hints, family, recipe, set, lora, positive, negative, force, library,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var draft = new TemplateDraft
                {
                    Name = result.GetValue(name)!,
                    Title = result.GetValue(title)!,
                    Tags = (result.GetValue(tags) ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray(),
                    People = result.GetValue(people),
                    Hints = (result.GetValue(hints) ?? []).Select(ParseHint).ToArray(),
                    ModelFamily = result.GetValue(family) == "sdxl" ? ModelFamily.Sdxl : ModelFamily.Sd15,
                    Recipe = result.GetValue(recipe),
                    Overrides = result.GetValue(set) ?? [],
                    StyleLora = result.GetValue(lora) is { } text ? ParseLora(text) : null,
                    PositiveAdd = result.GetValue(positive)?.Trim() ?? string.Empty,
                    NegativeAdd = result.GetValue(negative)?.Trim() ?? string.Empty,
                    Licence = new TemplateLicence(result.GetValue(licence)!, result.GetValue(source)!, result.GetValue(author)!),
                };
                var given = result.GetValue(library)?.FullName ?? CliApp.Configuration.TemplatesDirectory ?? TemplateLibrary.FolderName;
                var lib = new TemplateLibrary(given);
                var added = await lib.AddAsync(draft, result.GetValue(image)!.FullName, result.GetValue(force), cancellationToken);
                Console.WriteLine($"Added {added.Name} ({added.People} {(added.People == 1 ? "person" : "people")}): {added.ImagePath}, {added.MetadataPath}");
                return 0;
            }
            catch (TemplateException e)
            {
                await Console.Error.WriteLineAsync("error: " + UserText.EscapeControl(e.Message));
                return 2;
            }
            catch (FormatException e)
            {
                await Console.Error.WriteLineAsync("error: " + e.Message);
                return 2;
            }
        });
        return command;
    }

    private static Command Gallery()
    {
        var output = new Option<FileInfo?>("--out") { Description = "The HTML file to write (default: templates-gallery.html in the working folder); thumbnails are embedded" };
        var library = TemplateCli.LibraryOption();
        var command = new Command("gallery", "Write an HTML page of the library: thumbnails, titles, tags, people, suggested recipe and licences.") { output, library };
        command.SetAction(async (result, cancellationToken) =>
        {
            var lib = TemplateCli.Library(result.GetValue(library));
            if (!Directory.Exists(lib.Directory))
            {
                await Console.Error.WriteLineAsync($"error: no template library at {lib.Directory} (--templates DIR, or Templates:Directory in miaoya.json)");
                return 2;
            }

            var (templates, problems) = lib.Load();
            foreach (var problem in problems)
            {
                await Console.Error.WriteLineAsync("skipped: " + UserText.EscapeControl(problem.ToString()));
            }

            var path = result.GetValue(output)?.FullName ?? Path.GetFullPath("templates-gallery.html");
            await TemplateGallery.WriteAsync(path, lib.Directory, templates, cancellationToken);
            Console.WriteLine($"Gallery of {templates.Count} template{(templates.Count == 1 ? "" : "s")}: {path}");
            return 0;
        });
        return command;
    }

    /// <summary>The JSON of a template (list --json, show --json).</summary>
    public static JsonObject ToJson(LibraryTemplate t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return new JsonObject
        {
            ["name"] = t.Name,
            ["title"] = t.Title,
            ["tags"] = new JsonArray(t.Tags.Select(x => (JsonNode?)x).ToArray()),
            ["people"] = t.People,
            ["hints"] = new JsonArray(t.Hints.Select(h => (JsonNode?)new JsonObject { ["gender"] = h.Gender, ["age"] = h.Age }).ToArray()),
            ["model_family"] = RecipeYaml.Word(t.ModelFamily),
            ["recipe"] = t.Recipe,
            ["overrides"] = new JsonArray(t.Overrides.Select(x => (JsonNode?)x).ToArray()),
            ["style_lora"] = t.StyleLora is { } lora ? new JsonObject { ["name"] = lora.Name, ["weight"] = lora.Weight } : null,
            ["prompt"] = new JsonObject { ["positive_add"] = t.PositiveAdd, ["negative_add"] = t.NegativeAdd },
            ["licence"] = new JsonObject { ["name"] = t.Licence.Name, ["source"] = t.Licence.Source, ["author"] = t.Licence.Author },
            ["image"] = t.ImagePath,
            ["metadata"] = t.MetadataPath,
        };
    }

    private static FaceHint ParseHint(string text)
    {
        var parts = text.Split('/', StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !FaceHint.Genders.Contains(parts[0]) || !FaceHint.Ages.Contains(parts[1]))
        {
            throw new FormatException($"--hint: '{UserText.Quote(text)}' is not GENDER/AGE with GENDER one of {string.Join(", ", FaceHint.Genders)} and AGE one of {string.Join(", ", FaceHint.Ages)} (e.g. female/adult)");
        }

        return new FaceHint(parts[0], parts[1]);
    }

    private static StyleLora ParseLora(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !double.TryParse(text[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) || !double.IsFinite(weight))
        {
            throw new FormatException($"--style-lora: '{UserText.Quote(text)}' is not NAME:WEIGHT (e.g. film_grain:0.6)");
        }

        return new StyleLora(text[..colon].Trim(), weight);
    }
}
