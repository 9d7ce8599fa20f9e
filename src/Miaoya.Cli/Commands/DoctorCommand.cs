using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Miaoya.Doctor;
using Miaoya.Hosting;
using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Cli.Commands;

/// <summary>
/// <c>miaoya doctor [RECIPE...] --webui URL [--webui URL ...] [--auth user:pass] [--lora NAME] [--deep] [--json]</c>: checks every box
/// (concurrently) against what the recipes need and prints one table per box; <c>--deep</c> also runs each identity preprocessor
/// the recipes use once on the bundled astronaut photo (POST /controlnet/detect); without <c>--webui</c>, the configured
/// boxes (<c>Fleet:Boxes</c>, else <c>WebUi:BaseUrl</c>). Exit 0 when every box has everything, 1 when something a recipe
/// needs is missing or a box does not answer, 2 on bad input.
/// </summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var recipes = new Argument<string[]>("recipes") { Description = "Recipe files or built-in names; default: every built-in recipe", Arity = ArgumentArity.ZeroOrMore };
        var webui = new Option<string[]>("--webui")
        {
            Description = "Base URL of a WebUI box (repeat for several boxes); default: the configuration's Fleet:Boxes, else its WebUi:BaseUrl (miaoya.json, appsettings.json, MIAOYA_*), else http://127.0.0.1:7860",
            HelpName = "URL",
        };
        var auth = CliOptions.Auth();
        var lora = new Option<string?>("--lora") { Description = "The person's LoRA (NAME or NAME:WEIGHT) to look for on the boxes; not checked when absent" };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON instead of tables" };
        var deep = new Option<bool>("--deep")
        {
            Description = "Also run each identity preprocessor the recipes use (FaceID, InstantID, PuLID) once on a bundled face photo through /controlnet/detect: catches a box without insightface or the evaclip extension",
        };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every call" };
        var command = new Command("doctor", "Check WebUI boxes against what the recipes need (API, flags, extensions, models, samplers) and say how to fix what is missing.")
        {
            recipes, webui, auth, lora, deep, json, verbose,
        };
        command.Options.Add(CliOptions.AuthFile());
        command.SetAction((result, cancellationToken) => WebUiSession.RunAsync(async () =>
        {
            var boxes = new List<WebUiEndpoint>();
            foreach (var text in result.GetValue(webui) ?? [])
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    await Console.Error.WriteLineAsync($"error: --webui: '{text}' is not an http:// or https:// URL.");
                    return 2;
                }

                boxes.Add(CliOptions.Endpoint(result, uri));
            }

            if (boxes.Count == 0)
            {
                boxes.AddRange(ConfiguredBoxes(result));
            }

            if (boxes.Count == 0)
            {
                boxes.Add(CliOptions.Endpoint(result, null)); // WebUi:BaseUrl, else http://127.0.0.1:7860, as every other command
            }

            var loaded = new List<Recipe>();
            var problems = new List<string>();
            var names = result.GetValue(recipes) is { Length: > 0 } given ? given : RecipeLoader.BuiltInNames.ToArray();
            foreach (var name in names)
            {
                try
                {
                    loaded.Add(RecipeLoader.Load(name));
                }
                catch (RecipeException e)
                {
                    problems.AddRange(e.Problems.Select(p => p.ToString()));
                }
            }

            string? loraName = null;
            try
            {
                loraName = result.GetValue(lora) is { } text ? Pipeline.LoraChoice.Parse(text).Name : null;
            }
            catch (ArgumentException e)
            {
                problems.Add(e.Message);
            }

            if (problems.Count > 0)
            {
                await Console.Error.WriteLineAsync($"error: {string.Join(Environment.NewLine + "  ", problems)}");
                return 2;
            }

            using var provider = Services(result.GetValue(verbose));
            var factory = provider.GetRequiredService<WebUiClientFactory>();
            var clients = boxes.Select(factory.Create).ToArray();
            try
            {
                var face = result.GetValue(deep) ? await BundledFaceAsync(cancellationToken) : null;
                var report = await WebUiDoctor.CheckAsync(clients, loaded, loraName, WebUiManifest.BuiltIn, face, cancellationToken);
                if (result.GetValue(json))
                {
                    Console.WriteLine(DoctorOutput.ToJson(report));
                }
                else
                {
                    DoctorOutput.WriteTables(report, Console.Out);
                }

                return report.Ok ? 0 : 1;
            }
            catch (OperationCanceledException)
            {
                await Console.Error.WriteLineAsync("cancelled.");
                return 130;
            }
        }));
        return command;
    }

    /// <summary>The demo's template (src/Miaoya.Cli/Assets/template-astronaut.png, public domain, one frontal face): the --deep test face.</summary>
    private static async Task<Imaging.EncodedImage> BundledFaceAsync(CancellationToken cancellationToken)
    {
        await using var stream = typeof(DoctorCommand).Assembly.GetManifestResourceStream(DemoCommand.TemplateResource)
            ?? throw new InvalidOperationException($"embedded resource {DemoCommand.TemplateResource} is missing from the build.");
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return new Imaging.EncodedImage(buffer.ToArray());
    }

    /// <summary>The boxes of the configuration: the fleet's, each with its own credentials, else the one of WebUi:BaseUrl.</summary>
    private static IEnumerable<WebUiEndpoint> ConfiguredBoxes(ParseResult result)
    {
        var configuration = CliApp.Configuration;
        if (configuration.FleetBoxes() is { Count: > 0 } fleet)
        {
            return fleet.Select(b => new WebUiEndpoint(b.Url!, b.Username, b.Password));
        }

        return configuration.HasBaseUrl ? [CliOptions.Endpoint(result, null)] : [];
    }

    private static ServiceProvider Services(bool verbose)
    {
        var services = new ServiceCollection();
        services.AddMiaoyaDefaults(CliApp.Configuration.Root, MiaoyaLogging.For(verbose, LogLevel.None));
        // A box that does not answer is a finding, not something to wait for: one retry, short attempts. These are
        // doctor's defaults; the configuration's WebUi settings, bound after them, still apply.
        services.Configure<WebUiOptions>(o =>
        {
            o.ControlRetries = 1;
            o.ControlAttemptTimeout = TimeSpan.FromSeconds(10);
            o.BreakerSamplingDuration = TimeSpan.FromSeconds(30);
        });
        services.AddWebUiClient();
        return services.BuildServiceProvider();
    }
}
