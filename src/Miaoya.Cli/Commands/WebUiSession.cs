using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Miaoya.Fleet;
using Miaoya.Hosting;
using Miaoya.Pipeline;
using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Cli.Commands;

/// <summary>A WebUI client and the pipeline for one command run, composed as every host is (<see cref="MiaoyaServiceCollectionExtensions.AddMiaoyaDefaults"/>).</summary>
internal sealed class WebUiSession : IDisposable, IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    /// <summary>A session on <paramref name="endpoint"/>, the command's box (<see cref="CliOptions.Endpoint"/>).</summary>
    public WebUiSession(WebUiEndpoint endpoint, bool verbose)
    {
        var services = new ServiceCollection();
        services.AddMiaoyaDefaults(CliApp.Configuration.Root, MiaoyaLogging.For(verbose, LogLevel.Warning));
        // Timeouts, retries and breaker settings come from the configuration's WebUi section (docs/configuration.md); the
        // box and its credentials were resolved by the command, its flags first.
        services.AddPortraitPipeline(o =>
        {
            o.BaseUrl = endpoint.BaseUrl;
            o.Username = endpoint.Username;
            o.Password = endpoint.Password;
        });
        _provider = services.BuildServiceProvider();
        Client = _provider.GetRequiredService<WebUiClient>();
    }

    private WebUiSession(ServiceProvider provider, WebUiFleet fleet)
    {
        _provider = provider;
        Fleet = fleet;
        Client = null!;
    }

    /// <summary>
    /// A pipeline over a fleet of <paramref name="boxes"/> (health checks, quarantine, retries on another box, checkpoint
    /// affinity), started: for commands that spread many runs over several boxes. The fleet's own settings come from
    /// the configuration's Fleet section; its boxes are the command's.
    /// </summary>
    public static async Task<WebUiSession> StartFleetAsync(IReadOnlyList<BoxOptions> boxes, bool verbose, CancellationToken cancellationToken)
    {
        var provider = AddFleetPipeline(new ServiceCollection(), boxes, verbose).BuildServiceProvider();
        var fleet = provider.GetRequiredService<WebUiFleet>();
        await fleet.StartAsync(cancellationToken);
        return new WebUiSession(provider, fleet);
    }

    /// <summary>
    /// The pipeline over a fleet of the command's <paramref name="boxes"/>, composed as every host is: timeouts, retries
    /// and breaker settings (WebUi) and the fleet's own (Fleet) come from the configuration; the boxes replace its
    /// <c>Fleet:Boxes</c>.
    /// </summary>
    public static IServiceCollection AddFleetPipeline(IServiceCollection services, IReadOnlyList<BoxOptions> boxes, bool verbose)
    {
        services.AddMiaoyaDefaults(CliApp.Configuration.Root, MiaoyaLogging.For(verbose, LogLevel.Warning));
        services.AddWebUiFleet(o =>
        {
            o.Boxes.Clear();
            foreach (var box in boxes)
            {
                o.Boxes.Add(box);
            }
        });
        services.AddPortraitPipeline();
        return services;
    }

    /// <summary>
    /// When no box of a just started fleet answered: says so on stderr, each box with its error, and returns true. Through
    /// the fleet a call would wait for a box to come back, so a command that starts with none up stops at once.
    /// </summary>
    public static async Task<bool> NoBoxAnswersAsync(WebUiFleet fleet)
    {
        var status = fleet.Status();
        if (status.Any(b => b.Health == BoxHealth.Healthy))
        {
            return false;
        }

        await Console.Error.WriteLineAsync("error: no WebUI box answers:");
        foreach (var box in status)
        {
            await Console.Error.WriteLineAsync($"  {box.Url}: {box.LastError}");
        }

        return true;
    }

    /// <summary>The one box's client (null for a fleet session).</summary>
    public WebUiClient Client { get; }

    /// <summary>The fleet, for a session started with <see cref="StartFleetAsync"/>.</summary>
    public WebUiFleet? Fleet { get; }

    /// <summary>The pipeline (loads the face detector on first use).</summary>
    public PortraitPipeline Pipeline => _provider.GetRequiredService<PortraitPipeline>();

    public void Dispose() => _provider.Dispose();

    /// <summary>Stops the fleet's health checks, if any, and disposes the services.</summary>
    public ValueTask DisposeAsync() => _provider.DisposeAsync();

    /// <summary>Runs a command body; WebUI failures become one line on stderr and exit code 1.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (OptionsValidationException e)
        {
            await Console.Error.WriteLineAsync("error: the WebUI client settings are invalid:");
            foreach (var failure in e.Failures)
            {
                await Console.Error.WriteLineAsync("  " + failure);
            }

            return 2;
        }
        catch (InvalidOperationException e) when (e.InnerException is FormatException)
        {
            await Console.Error.WriteLineAsync($"error: a WebUi setting cannot be read: {e.Message}");
            return 2;
        }
        catch (WebUiException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }
        catch (RecipeException e)
        {
            await Console.Error.WriteLineAsync($"error: the recipe has problems:{Environment.NewLine}{string.Join(Environment.NewLine, e.Problems.Select(p => "  " + p))}");
            return 2;
        }
        catch (Templates.TemplateException e)
        {
            await Console.Error.WriteLineAsync($"error: {Limits.UserText.EscapeControl(e.Message)}");
            return 2;
        }
        catch (PipelineException e)
        {
            await Console.Error.WriteLineAsync($"error: {Limits.UserText.EscapeControl(e.Message)}");
            // Bad input (a photo without the face, a bad --face-index, a LoRA no box has): exit 2, and no resume hint,
            // since resuming the same inputs cannot help.
            var badInput = RunFailures.Classify(e) == WebUi.FailureKind.Input;
            if (!badInput && e.RunFolder is not null && e.Step is not "preflight")
            {
                await Console.Error.WriteLineAsync($"Finished steps are kept; after fixing the cause: miaoya run --resume {e.RunFolder}");
            }

            return badInput ? 2 : 1;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("cancelled; the box was told to stop. Finished steps are kept (resume with miaoya run --resume DIR).");
            return 130;
        }
    }
}
