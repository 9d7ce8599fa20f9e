using System.Text.Json.Nodes;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi.Tagger;

namespace Miaoya.Pipeline;

/// <summary><c>interrogate</c>: the WD14 tagger reverses a prompt from the template; the person's LoRA and words are added.</summary>
internal sealed class InterrogateStep : IPortraitStep
{
    public string Name => StepName.Interrogate;

    public StepBoxUse BoxUse => StepBoxUse.Occupies;

    public async Task RunAsync(RunContext run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Recipe.Interrogate;
        var model = settings.Model;
        // The WD14 tagger interrogates under the WebUI's queue lock (its api.py: `with self.queue_lock:`, the lock A1111
        // passes in on_app_started), so it occupies the box like a generation does, without needing a checkpoint.
        var tags = await BoxCalls.RunAsync(run, record, BoxCalls.Needs(run, Name, generation: true) with { Checkpoint = null }, (box, ct) =>
        {
            model = settings.Model ?? box.Capabilities.TaggerModels[0];
            return box.Client.TaggerInterrogateAsync(new TaggerInterrogateRequest(run.Template, model, settings.Threshold), ct);
        }, cancellationToken);
        // Several people: the run's prompt carries no LoRA (the whole-image pass touches every face); each person's prompt
        // is the same tags with their LoRA (and its trigger words) alone, for the passes on their face only.
        run.Prompt = PromptComposer.Compose(tags, run.Recipe, run.HasPeople ? null : run.Request.Lora, run.Request.TriggerWords);
        foreach (var person in run.People)
        {
            person.Prompt = PromptComposer.Compose(tags, run.Recipe, person.Request.Lora, person.Request.TriggerWords);
        }

        record.Request = new JsonObject { ["image"] = ManifestRequests.Reference(run.Manifest.Inputs.Template), ["model"] = model, ["threshold"] = settings.Threshold };
        record.Response = new JsonObject
        {
            ["flavor"] = tags.Flavor.ToString(),
            ["tags"] = Scores(tags.Tags),
            ["ratings"] = Scores(tags.Ratings),
        };
        record.SetResult(new InterrogateResult(
            run.Prompt.Prompt,
            run.Prompt.NegativePrompt,
            run.Prompt.KeptTags,
            run.Prompt.DroppedTags,
            run.HasPeople ? run.People.Select(p => new PersonPrompt(p.FaceIndex, p.Prompt!.Prompt)).ToArray() : null));
        var text = $"{run.Prompt.Prompt}\nNegative prompt: {run.Prompt.NegativePrompt}\n"
            + string.Concat(run.People.Select(p => $"Face {p.FaceIndex}: {p.Prompt!.Prompt}\n"));
        record.Outputs.Add(await run.Folder.WriteTextAsync("prompt.txt", text, cancellationToken));
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs)
    {
        var result = record.ResultAs<InterrogateResult>() ?? throw new PipelineException($"step {Name}: the manifest holds no prompt.") { Step = Name };
        run.Prompt = new ComposedPrompt(result.Prompt, result.NegativePrompt, result.KeptTags, result.DroppedTags);
        foreach (var person in run.People)
        {
            var prompt = result.People?.FirstOrDefault(p => p.FaceIndex == person.FaceIndex)
                ?? throw new PipelineException($"step {Name}: the manifest holds no prompt for face {person.FaceIndex}.") { Step = Name };
            person.Prompt = run.Prompt with { Prompt = prompt.Prompt };
        }
    }

    private static JsonObject Scores(IReadOnlyDictionary<string, double> scores)
    {
        var json = new JsonObject();
        foreach (var (key, value) in scores.OrderByDescending(p => p.Value))
        {
            json[key] = Math.Round(value, 4);
        }

        return json;
    }
}
