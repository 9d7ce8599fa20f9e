using Microsoft.AspNetCore.Http;
using Miaoya.Imaging;
using Miaoya.Limits;
using Miaoya.Recipes;
using Miaoya.Templates;

namespace Miaoya.Server;

internal sealed partial class SubmissionReader
{
    /// <summary>
    /// A submission naming a template of the server's library (<c>template_name</c>) instead of uploading one: its photo
    /// is staged like an upload, its suggested recipe is used when the submission names none, and its overrides, style
    /// LoRA and prompt additions go before the submission's own overrides (<see cref="TemplateRun.Overrides"/>), so the
    /// job records them and a submission's override still wins.
    /// </summary>
    private static StagedSubmission StageLibraryTemplate(SubmissionForm form, string? uploadDirectory, string? templatesDirectory, string? recipeDirectory)
    {
        if (form.Template is not null)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "template_name", "give template (a photo) or template_name (a template of the server's library), not both.");
        }

        if (templatesDirectory is null || !Directory.Exists(templatesDirectory))
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "template_name", "this server has no template library (serve --templates DIR); upload the photo as template.");
        }

        var name = form.TemplateName!;
        LibraryTemplate template;
        try
        {
            template = new TemplateLibrary(templatesDirectory).Get(name);
        }
        catch (TemplateException e)
        {
            // The library's folder is the server's business: problems name the template's files by name only.
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "template_name", e.Message.Replace(Path.GetFullPath(templatesDirectory), "(templates)", StringComparison.Ordinal));
        }

        var recipe = form.Recipe;
        var recipeYaml = form.RecipeYaml;
        if (recipe is null && recipeYaml is null)
        {
            if (template.RecipeReference is not { } suggested)
            {
                throw new FieldProblemException(StatusCodes.Status400BadRequest, "recipe", $"template {name} suggests no recipe; give recipe or recipe_yaml.");
            }

            // A built-in name as it is; a recipe file of the library goes inline (submissions never name recipe paths).
            if (RecipeLoader.BuiltInNames.Contains(suggested, StringComparer.Ordinal))
            {
                recipe = suggested;
            }
            else
            {
                try
                {
                    recipeYaml = BoundedFile.ReadAllText(suggested, InputLimits.Yaml.MaxDocumentChars, "recipe");
                }
                catch (InputLimitException e)
                {
                    throw new FieldProblemException(StatusCodes.Status400BadRequest, "template_name", $"template {name}: its recipe {template.Recipe} cannot be read ({e.Message.Replace(suggested, template.Recipe, StringComparison.Ordinal)}).");
                }
            }
        }

        IReadOnlyList<string> overrides;
        try
        {
            overrides = TemplateRun.Overrides(template, o => LoadRecipe(recipe, recipeYaml, recipeDirectory, o), form.Overrides);
        }
        catch (RecipeException e)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "template_name", $"template {name} with recipe {recipe ?? "(inline)"}: {e.Summary(2000)}");
        }

        byte[] bytes;
        try
        {
            bytes = BoundedFile.ReadAllBytes(template.ImagePath, InputLimits.Images.MaxUploadBytes, "template");
        }
        catch (InputLimitException e)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "template_name", $"template {name}: its image cannot be used ({e.Message.Replace(template.ImagePath, Path.GetFileName(template.ImagePath), StringComparison.Ordinal)}).");
        }

        return Stage(
            form with
            {
                TemplateName = null,
                Template = new UploadedImage(new EncodedImage(bytes), Path.GetFileName(template.ImagePath)),
                Recipe = recipe,
                RecipeYaml = recipeYaml,
                Overrides = overrides,
            },
            uploadDirectory);
    }

    /// <summary>The recipe the job will run, found as the job submitter finds it (inline, the server's recipe folder, built-in), to read its prompt text.</summary>
    private static Recipe LoadRecipe(string? name, string? yaml, string? recipeDirectory, IReadOnlyList<string> overrides)
    {
        if (yaml is not null)
        {
            return RecipeLoader.Parse(yaml, "inline recipe", overrides);
        }

        ArgumentNullException.ThrowIfNull(name);
        if (recipeDirectory is not null && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && !name.StartsWith('.'))
        {
            foreach (var file in new[] { $"{name}.yaml", $"{name}.yml" }.Select(f => Path.Combine(recipeDirectory, f)))
            {
                if (File.Exists(file))
                {
                    return RecipeLoader.Load(file, overrides);
                }
            }
        }

        return RecipeLoader.LoadBuiltIn(name, overrides);
    }
}
