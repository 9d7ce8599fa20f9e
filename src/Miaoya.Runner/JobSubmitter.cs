using Miaoya.Faces;
using Miaoya.Jobs;
using Miaoya.Limits;
using Miaoya.Pipeline;
using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Runner;

/// <summary>
/// Queues portrait jobs: checks the submission, writes the job's folder (its copy of the inputs and the resolved recipe,
/// through <see cref="PortraitPipeline.PrepareAsync(RunRequest, IFaceDetector?, CancellationToken)"/>) and then creates the job in the store with the recipe's steps.
/// Nothing is queued unless the folder is complete; a submission that fails leaves no folder behind.
/// </summary>
public sealed partial class JobSubmitter
{
    /// <summary>Longest recipe-problem message of a refused submission, before the line that counts the rest.</summary>
    private const int MaxMessageChars = 3500;

    private readonly IJobStore _store;
    private readonly JobRunnerOptions _options;
    private readonly IFaceDetector? _faceDetector;
    private readonly Func<string, CancellationToken, Task<string?>>? _loraProblem;

    /// <param name="store">Where jobs are queued.</param>
    /// <param name="options">Folders and the worker's settings.</param>
    /// <param name="faceDetector">The built-in face detector: with it, a template without the face the recipe's mask needs is refused at submission.</param>
    /// <param name="loraProblem">What is wrong with a LoRA name on the boxes (e.g. <c>WebUiFleet.LoraProblemAsync</c>), or null when it is fine.</param>
    public JobSubmitter(IJobStore store, JobRunnerOptions options, IFaceDetector? faceDetector = null, Func<string, CancellationToken, Task<string?>>? loraProblem = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options;
        _faceDetector = faceDetector;
        _loraProblem = loraProblem;
    }

    /// <summary>
    /// Validates and queues one job. Everything that can be checked before a box is called is checked here, and bad
    /// input throws <see cref="JobSubmissionException"/> naming the field.
    /// </summary>
    public async Task<JobRecord> SubmitAsync(JobSubmission submission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        var (recipe, lora) = await CheckRequestAsync(submission, cancellationToken);

        if (recipe.Pipeline == PipelineKind.V3 && submission.FacePath is null && submission.People.Count == 0)
        {
            throw new JobSubmissionException("face", $"recipe {recipe.Name} swaps faces (V3) and needs the person's face photo.");
        }

        if (submission.JobId is { } chosen && !NewJob.IsValidId(chosen))
        {
            throw new JobSubmissionException("id", $"job id \"{chosen}\" must be 1-64 letters, digits, '-' or '_'.");
        }

        var id = submission.JobId ?? NewJob.NewJobId();
        var folder = Path.GetFullPath(Path.Combine(_options.JobsDirectory, id));
        if (submission.JobId is not null && Directory.Exists(folder) && await _store.GetJobAsync(id, cancellationToken) is null)
        {
            // A folder without its job: a submission of this id that died between preparing the folder and creating the
            // job. The folder is that submission's; start afresh.
            DeleteQuietly(folder);
        }
        var request = Request(submission, recipe, lora, folder);

        try
        {
            await PortraitPipeline.PrepareAsync(request, _faceDetector, cancellationToken);
        }
        catch (Exception e) when (RunFailures.Classify(e) is FailureKind.Input or FailureKind.Request)
        {
            DeleteQuietly(folder);
            throw Refused(e, submission);
        }
        catch
        {
            DeleteQuietly(folder);
            throw;
        }

        var inputs = new JobInputs(
            recipe.Name, recipe.Pipeline.ToString().ToLowerInvariant(), recipe.BaseModel, lora?.ToString(), submission.Identity,
            Path.GetFileName(submission.TemplatePath), submission.Seed, Overrides(submission),
            People: submission.People.Count == 0 ? null : Persons(submission).Select(p => new JobPerson(p.FaceIndex, p.Lora?.ToString(), p.FacePaths.Count, p.TriggerWords.Count > 0 ? p.TriggerWords : null)).ToArray());
        try
        {
            return await _store.CreateJobAsync(
                new NewJob
                {
                    Id = id,
                    Recipe = submission.RecipeYaml ?? submission.Recipe!,
                    RecipeIsInline = submission.RecipeYaml is not null,
                    InputsJson = inputs.ToJson(),
                    OutputFolder = folder,
                    Steps = PortraitPipeline.JobSteps(recipe),
                },
                CancellationToken.None);
        }
        catch
        {
            DeleteQuietly(folder);
            throw;
        }
    }

    /// <summary>
    /// Deletes job folders the store does not know (a process that died between writing a job's folder and creating the
    /// job, or a job deleted while its files could not be removed): they may hold a person's photos. Folders younger
    /// than <paramref name="minimumAge"/> are left alone, since a submission may be creating them right now. Returns the
    /// folders removed.
    /// </summary>
    public async Task<IReadOnlyList<string>> RemoveOrphanFoldersAsync(TimeSpan minimumAge, CancellationToken cancellationToken = default)
    {
        var removed = new List<string>();
        if (!Directory.Exists(_options.JobsDirectory))
        {
            return removed;
        }

        foreach (var folder in Directory.EnumerateDirectories(_options.JobsDirectory))
        {
            var name = Path.GetFileName(folder);
            if (!Guid.TryParse(name, out _) || DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) < minimumAge)
            {
                continue;
            }

            if (await _store.GetJobAsync(name, cancellationToken) is null)
            {
                DeleteQuietly(folder);
                removed.Add(folder);
            }
        }

        return removed;
    }

    /// <summary>
    /// Everything <see cref="SubmitAsync"/> checks, without writing or queuing anything: bad input throws
    /// <see cref="JobSubmissionException"/> naming the field. A batch checks all its entries this way first.
    /// </summary>
    public async Task CheckAsync(JobSubmission submission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        var (recipe, lora) = await CheckRequestAsync(submission, cancellationToken);
        try
        {
            await PortraitPipeline.CheckAsync(Request(submission, recipe, lora, _options.JobsDirectory), _faceDetector, cancellationToken);
        }
        catch (Exception e) when (RunFailures.Classify(e) is FailureKind.Input or FailureKind.Request)
        {
            throw Refused(e, submission);
        }
    }

    /// <summary>
    /// The submission's fields, its recipe and its LoRA (also against the boxes; none when the recipe takes the person
    /// from face photos alone), and that the template exists.
    /// </summary>
    private async Task<(Recipe Recipe, LoraChoice? Lora)> CheckRequestAsync(JobSubmission submission, CancellationToken cancellationToken)
    {
        CheckFields(submission);
        var recipe = ResolveRecipe(submission);
        LoraChoice? lora = null;
        if (submission.People.Count > 0)
        {
            await CheckPeopleAsync(submission, recipe, cancellationToken);
        }
        else if (submission.Lora is null)
        {
            if (recipe.Identity is null)
            {
                throw new JobSubmissionException("lora", $"recipe {recipe.Name} takes the person from their face LoRA: give lora (name or name:weight), or use a recipe with an identity section (such as v4-faceid) with face photos.");
            }
        }
        else
        {
            try
            {
                lora = LoraChoice.Parse(submission.Lora);
            }
            catch (ArgumentException e)
            {
                // The field is named by the caller; the parser's message is worded for the command line.
                throw new JobSubmissionException("lora", e.Message.Replace("--lora: ", "", StringComparison.Ordinal), e);
            }
        }

        if (!File.Exists(submission.TemplatePath))
        {
            throw new JobSubmissionException("template", $"template photo {submission.TemplatePath} does not exist.");
        }

        if (lora is not null && _loraProblem is not null && await _loraProblem(lora.Name, cancellationToken) is { } loraProblem)
        {
            throw new JobSubmissionException("lora", loraProblem);
        }

        return (recipe, lora);
    }

    private RunRequest Request(JobSubmission submission, Recipe recipe, LoraChoice? lora, string folder) => new()
    {
        Recipe = recipe,
        Overrides = Overrides(submission),
        TemplatePath = submission.TemplatePath,
        Lora = lora,
        TriggerWords = submission.TriggerWords,
        Seed = submission.Seed,
        OutputDirectory = folder,
        FaceIndex = submission.FaceIndex,
        FacePaths = submission.FacePaths,
        People = Persons(submission),
        ModelsDirectory = _options.ModelsDirectory,
        Device = _options.Device,
        StandInModels = _options.StandInModels,
    };

    /// <summary>A failed preparation as a refusal naming the field (a person's part for a several-person job's problems).</summary>
    private static JobSubmissionException Refused(Exception e, JobSubmission submission) =>
        PersonProblem(e, submission) is { } person
            ? new JobSubmissionException(person.Field, person.Message, e)
            : new JobSubmissionException(Field(e, submission), e.Message, e);

    /// <summary>The field a failed preparation is about: the pipeline says which input; else a face photo when its name is in the message.</summary>
    private static string Field(Exception e, JobSubmission submission) =>
        (e as PipelineException)?.InputField
        ?? (submission.FacePaths.Any(f => e.Message.Contains(Path.GetFileName(f), StringComparison.Ordinal)) ? "face" : "template");

    /// <summary>The submission's overrides and, with <see cref="JobSubmission.Candidates"/>, <c>candidates.count=N</c> after them (it wins).</summary>
    private static IReadOnlyList<string> Overrides(JobSubmission submission) =>
        submission.Candidates is { } count
            ? [.. submission.Overrides, $"candidates.count={count.ToString(System.Globalization.CultureInfo.InvariantCulture)}"]
            : submission.Overrides;

    /// <summary>The fields that need no recipe and no file: one recipe source, the identity label, words, seed, face index.</summary>
    private static void CheckFields(JobSubmission submission)
    {
        if (submission.RecipeYaml is not null && !string.IsNullOrWhiteSpace(submission.Recipe))
        {
            throw new JobSubmissionException("recipe_yaml", "give a recipe name (recipe) or an inline recipe (recipe_yaml), not both.");
        }

        if (submission.Identity is { } identity && UserText.Problem(identity, InputLimits.Text.MaxIdentityChars) is { } identityProblem)
        {
            throw new JobSubmissionException("identity", $"{identityProblem}.");
        }

        if (PromptWords.TriggerProblem(submission.TriggerWords) is { } trigger)
        {
            throw new JobSubmissionException("trigger", $"{trigger}.");
        }

        if (PromptWords.SeedProblem(submission.Seed) is { } seed)
        {
            throw new JobSubmissionException("seed", $"{seed}.");
        }

        if (submission.FaceIndex is < 0)
        {
            throw new JobSubmissionException("face_index", "faces are counted from 0 (the largest).");
        }

        if (submission.FacePaths.Count > JobSubmission.MaxFacePhotos)
        {
            throw new JobSubmissionException("face", $"{submission.FacePaths.Count} face photos; at most {JobSubmission.MaxFacePhotos} are used.");
        }

        if (submission.Candidates is < 1 or > JobSubmission.MaxCandidates)
        {
            throw new JobSubmissionException("candidates", $"give 1..{JobSubmission.MaxCandidates} candidates.");
        }
    }

    private Recipe ResolveRecipe(JobSubmission submission)
    {
        var overrides = Overrides(submission);
        try
        {
            if (submission.RecipeYaml is { } yaml)
            {
                return RecipeLoader.Parse(yaml, "inline recipe", overrides);
            }

            if (string.IsNullOrWhiteSpace(submission.Recipe))
            {
                throw new JobSubmissionException("recipe", "give a recipe name or an inline recipe.");
            }

            var name = submission.Recipe;
            if (_options.RecipeDirectory is { } directory && IsPlainName(name))
            {
                foreach (var candidate in new[] { $"{name}.yaml", $"{name}.yml" })
                {
                    var path = Path.Combine(directory, candidate);
                    if (File.Exists(path))
                    {
                        return RecipeLoader.Load(path, overrides);
                    }
                }
            }

            if (RecipeLoader.BuiltInNames.Contains(name))
            {
                return RecipeLoader.LoadBuiltIn(name, overrides);
            }

            if (_options.AllowRecipePaths && File.Exists(name))
            {
                return RecipeLoader.Load(name, overrides);
            }

            throw new JobSubmissionException("recipe", $"unknown recipe \"{name}\"; known: {string.Join(", ", KnownRecipes())}.");
        }
        catch (RecipeException e)
        {
            // Problems of the overrides alone name that field (the recipe itself is fine); they read "path: message".
            // A bounded message that still counts what it leaves out (the API caps what it repeats at 4,000 characters).
            if (e.Problems.Count > 0 && e.Problems.All(p => p.IsOverride || (p.Line == 0 && p.Path.Length == 0 && p.Message.StartsWith("...", StringComparison.Ordinal))))
            {
                throw new JobSubmissionException("overrides", e.Summary(MaxMessageChars, p => p.Path.Length == 0 ? p.Message : $"{p.Path}: {p.Message}"), e);
            }

            throw new JobSubmissionException(submission.RecipeYaml is null ? "recipe" : "recipe_yaml", e.Summary(MaxMessageChars), e);
        }
    }

    /// <summary>Recipe names a submission may use: the built-in ones and those in <see cref="JobRunnerOptions.RecipeDirectory"/>.</summary>
    public IReadOnlyList<string> KnownRecipes()
    {
        var names = new SortedSet<string>(RecipeLoader.BuiltInNames, StringComparer.Ordinal);
        if (_options.RecipeDirectory is { } directory && Directory.Exists(directory))
        {
            foreach (var file in Directory.EnumerateFiles(directory, "*.y*ml"))
            {
                names.Add(Path.GetFileNameWithoutExtension(file));
            }
        }

        return names.ToArray();
    }

    private static bool IsPlainName(string name) => name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && !name.StartsWith('.');

    private static void DeleteQuietly(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: the folder was ours and is not referenced by any job.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
