using System.CommandLine;
using Miaoya.Recipes;
using Miaoya.Templates;

namespace Miaoya.Cli.Commands;

/// <summary>How commands find the template library and take <c>--template NAME</c> (a library template) beside <c>--template FILE</c>.</summary>
internal static class TemplateCli
{
    public const string LibraryDefault = "default: Templates:Directory of miaoya.json, appsettings.json or MIAOYA_Templates__Directory, else ./templates, else the templates shipped with miaoya";

    public const string TemplateDescription = "Template photo (PNG/JPEG/WebP), or the name of a template in the library (miaoya templates list): its suggested recipe, overrides, style LoRA and prompt additions apply under your --set";

    public static Option<DirectoryInfo?> LibraryOption() => new("--templates") { Description = $"The template library folder ({LibraryDefault})", HelpName = "DIR" };

    public static TemplateLibrary Library(DirectoryInfo? given) => TemplateLibrary.Locate(given?.FullName, CliApp.Configuration.TemplatesDirectory);

    /// <summary>
    /// <c>--template VALUE</c>: an existing file is the photo itself; otherwise a template name (lower-case letters,
    /// digits, '-' and '_': no dot or slash, so no photo's file name) is looked up in the library (a
    /// <see cref="TemplateException"/> with "did you mean" when it is not there); anything else is a photo's path, whose
    /// absence the run reports as before (after the recipe and --lora are checked).
    /// </summary>
    public static (string ImagePath, LibraryTemplate? Template) Resolve(string value, DirectoryInfo? library)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (File.Exists(value))
        {
            return (Path.GetFullPath(value), null);
        }

        if (TemplateLibrary.IsName(value))
        {
            var template = Library(library).Get(value);
            return (template.ImagePath, template);
        }

        return (Path.GetFullPath(value), null);
    }

    /// <summary>The recipe of a run: the one given, else the template's suggestion; null when neither.</summary>
    public static string? Recipe(string? given, LibraryTemplate? template) => given ?? template?.RecipeReference;

    /// <summary>The overrides of a run: the template's (<see cref="TemplateRun.Overrides"/>) and then <paramref name="user"/>; just <paramref name="user"/> for a photo.</summary>
    public static IReadOnlyList<string> Overrides(LibraryTemplate? template, string recipe, IReadOnlyList<string> user) =>
        template is null ? user : TemplateRun.Overrides(template, o => RecipeLoader.Load(recipe, o), user);

    /// <summary>A note for stderr when the template's settings are for another model family than the recipe; null when they agree.</summary>
    public static string? FamilyNote(LibraryTemplate? template, Recipe recipe) =>
        template is not null && recipe.ModelFamily != template.ModelFamily
            ? $"note: template {template.Name} is meant for {ModelFamilies.Label(template.ModelFamily)}, recipe {recipe.Name} is {ModelFamilies.Label(recipe.ModelFamily)}; its overrides and style LoRA may not suit it"
            : null;
}
