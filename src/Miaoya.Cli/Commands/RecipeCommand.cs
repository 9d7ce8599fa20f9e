using System.CommandLine;
using Miaoya.Imaging;
using Miaoya.Pipeline;
using Miaoya.Recipes;
using Miaoya.Templates;
using Miaoya.WebUi;

namespace Miaoya.Cli.Commands;

/// <summary><c>miaoya recipe validate FILE...</c> and <c>miaoya recipe explain [RECIPE] --template FILE|NAME</c>.</summary>
internal static class RecipeCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("recipes") { Description = "Recipe files or built-in names", Arity = ArgumentArity.OneOrMore };
        var validateSet = new Option<string[]>("--set") { Description = "Overrides to validate with the recipe" };
        var validate = new Command("validate", "Check recipes; every problem is listed with file:line:column and field path.") { files, validateSet };
        validate.SetAction(async (result, _) =>
        {
            var failed = false;
            foreach (var name in result.GetValue(files)!)
            {
                try
                {
                    var recipe = RecipeLoader.Load(name, result.GetValue(validateSet) ?? []);
                    Console.WriteLine($"{recipe.SourcePath}: ok ({recipe.Name}, {recipe.Pipeline}: {string.Join(" → ", recipe.StepNames)})");
                }
                catch (RecipeException e)
                {
                    failed = true;
                    await Console.Error.WriteLineAsync(string.Join(Environment.NewLine, e.Problems));
                }
            }

            return failed ? 2 : 0;
        });

        var file = CliOptions.Recipe();
        file.Description = $"Recipe file, or a built-in name ({CliOptions.BuiltInRecipes}); optional with --template NAME of a template that suggests one";
        var template = new Option<string>("--template") { Description = TemplateCli.TemplateDescription, HelpName = "FILE|NAME", Required = true };
        var templates = TemplateCli.LibraryOption();
        var lora = new Option<string?>("--lora") { Description = "Face LoRA as NAME[:WEIGHT] (default: LORA_NAME; none for a recipe with an identity section)" };
        var set = new Option<string[]>("--set") { Description = "Override a recipe value (repeatable)" };
        var profile = CliOptions.Profile();
        profile.Description = "Resolve names as this WebUI version needs them: webui-1.10, forge or reforge (split sampler + scheduler) or webui-1.8 (composite sampler names)";
        var json = new Option<bool>("--json") { Description = "Print the plan as one JSON object: steps, the request bodies (images elided) and the needs of a box, without the prose" };
        var explain = new Command("explain", "Print the resolved plan and the exact request payloads (images elided), without calling a WebUI.") { file, template, templates, lora, set, profile, json };
        explain.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                // --template NAME as run takes it: the library's photo, its suggested recipe and its overrides (then --set).
                var (templatePath, libraryTemplate) = TemplateCli.Resolve(result.GetValue(template)!, result.GetValue(templates));
                if (TemplateCli.Recipe(result.GetValue(file), libraryTemplate) is not { } recipeName)
                {
                    await Console.Error.WriteLineAsync(libraryTemplate is null
                        ? $"error: recipe explain: give a RECIPE (a file or one of {CliOptions.BuiltInRecipes})."
                        : $"error: recipe explain: template {libraryTemplate.Name} suggests no recipe; give a RECIPE (a file or one of {CliOptions.BuiltInRecipes}).");
                    return 2;
                }

                var recipe = RecipeLoader.Load(recipeName, TemplateCli.Overrides(libraryTemplate, recipeName, result.GetValue(set) ?? []));
                if (TemplateCli.FamilyNote(libraryTemplate, recipe) is { } note)
                {
                    await Console.Error.WriteLineAsync(note);
                }

                var image = await EncodedImage.ReadFileAsync(templatePath, cancellationToken);
                var dialect = result.GetValue(profile) == MockWebUi.MockWebUiProfile.WebUi18 ? SamplerDialect.Combined : SamplerDialect.SplitOrCombined;
                var choice = result.GetValue(lora) is { } text ? LoraChoice.Parse(text) : recipe.Identity is null ? LoraChoice.Parse("LORA_NAME") : null;
                Console.Write(result.GetValue(json)
                    ? CliJson.Write(RecipeExplainer.ExplainJson(recipe, image, choice, [], dialect)) + Environment.NewLine
                    : RecipeExplainer.Explain(recipe, image, choice, [], dialect));
                return 0;
            }
            catch (RecipeException e)
            {
                await Console.Error.WriteLineAsync(string.Join(Environment.NewLine, e.Problems));
                return 2;
            }
            catch (TemplateException e)
            {
                await Console.Error.WriteLineAsync($"error: {Limits.UserText.EscapeControl(e.Message)}");
                return 2;
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidImageDataException or ArgumentException or IOException)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }
        });

        return new Command("recipe", "Validate and explain recipes.") { validate, explain };
    }
}
