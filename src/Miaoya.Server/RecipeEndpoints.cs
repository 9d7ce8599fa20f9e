using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Miaoya.Recipes;

namespace Miaoya.Server;

/// <summary><c>GET /v1/recipes</c>: the recipe names a submission may use, so that a client (the console) offers only those.</summary>
internal static class RecipeEndpoints
{
    /// <summary>The file names JobSubmitter tries in the recipe folder, in its order.</summary>
    private static readonly string[] Extensions = [".yaml", ".yml"];

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/recipes", List)
            .WithName("ListRecipes")
            .WithTags("jobs")
            .WithSummary("The recipes a submission may name: the built-in ones and those of the server's recipe folder (--recipes), with whether each needs a LoRA")
            .Produces<RecipeListView>();

    private static RecipeListView List(ServerState state)
    {
        var directory = state.Options.Runner.RecipeDirectory;
        var recipes = new List<RecipeView>();
        // The names JobSubmitter resolves (its KnownRecipes); a file of the folder wins over a built-in of the same name, as there.
        foreach (var name in state.Submitter.KnownRecipes())
        {
            var file = directory is null ? null : Extensions.Select(e => Path.Combine(directory, name + e)).FirstOrDefault(File.Exists);
            try
            {
                var recipe = file is null ? RecipeLoader.LoadBuiltIn(name) : RecipeLoader.Load(file);
                recipes.Add(new RecipeView(name, file is null ? "built_in" : "folder", recipe.Description, recipe.BaseModel, recipe.Identity is null, null));
            }
            catch (RecipeException e)
            {
                // A broken file of the folder is listed with its problem (a submission naming it gets the same message).
                // The folder's path is the server's business: the problem names the file alone.
                var problem = e.Summary(Problems.MaxDetailChars);
                if (directory is not null)
                {
                    problem = problem.Replace(Path.TrimEndingDirectorySeparator(directory) + Path.DirectorySeparatorChar, "", StringComparison.Ordinal);
                }

                recipes.Add(new RecipeView(name, file is null ? "built_in" : "folder", null, null, null, problem));
            }
        }

        return new RecipeListView(recipes);
    }
}

/// <summary><c>GET /v1/recipes</c>: every recipe a submission may name, by name.</summary>
public sealed record RecipeListView(IReadOnlyList<RecipeView> Recipes);

/// <summary>
/// A recipe: its name (the submission's <c>recipe</c>), where it comes from (<c>built_in</c> or <c>folder</c>), its
/// description and checkpoint, whether a submission needs <c>lora</c> (false for a recipe with an identity section, which
/// takes the person from the face photos); a recipe file that does not load has only its <c>problem</c>.
/// </summary>
public sealed record RecipeView(string Name, string Source, string? Description, string? BaseModel, bool? NeedsLora, string? Problem);
