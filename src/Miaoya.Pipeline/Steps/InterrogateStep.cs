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
        run.Prompt = PromptComposer.Compose(tags, run.Recipe, run.Request.Lora, run.Request.TriggerWords);
        record.Request = new JsonObject { ["image"] = ManifestRequests.Reference(run.Manifest.Inputs.Template), ["model"] = model, ["threshold"] = settings.Threshold };
        record.Response = new JsonObject
        {
            ["flavor"] = tags.Flavor.ToString(),
            ["tags"] = Scores(tags.Tags),
            ["ratings"] = Scores(tags.Ratings),
        };
        record.SetResult(new InterrogateResult(run.Prompt.Prompt, run.Prompt.NegativePrompt, run.Prompt.KeptTags, run.Prompt.DroppedTags));
        record.Outputs.Add(await run.Folder.WriteTextAsync("prompt.txt", $"{run.Prompt.Prompt}\nNegative prompt: {run.Prompt.NegativePrompt}\n", cancellationToken));
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs)
    {
        var result = record.ResultAs<InterrogateResult>() ?? throw new PipelineException($"step {Name}: the manifest holds no prompt.") { Step = Name };
        run.Prompt = new ComposedPrompt(result.Prompt, result.NegativePrompt, result.KeptTags, result.DroppedTags);
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
