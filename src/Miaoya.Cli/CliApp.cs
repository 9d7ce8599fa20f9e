using System.CommandLine;
using System.Runtime.InteropServices;
using Miaoya.Cli.Commands;
using Miaoya.Hosting;

namespace Miaoya.Cli;

/// <summary>The <c>miaoya</c> command tree.</summary>
internal static class CliApp
{
    private static readonly AsyncLocal<MiaoyaConfiguration?> RunConfiguration = new();

    /// <summary>
    /// The configuration of the command being run (<see cref="MiaoyaConfiguration"/>: appsettings.json, miaoya.json, the
    /// MIAOYA_ environment), read once at its start; outside a run (a test parsing a command line), read now.
    /// </summary>
    internal static MiaoyaConfiguration Configuration => RunConfiguration.Value ?? MiaoyaConfiguration.Load();

    public static RootCommand Create() => SubcommandHelp.Install(new("Miaoya Orchestrator: portrait and ID-photo jobs on AUTOMATIC1111 WebUI boxes.")
    {
        DemoCommand.Create(),
        RunCommand.Create(),
        RecipeCommand.Create(),
        ReplayCommand.Create(),
        FaceSwapCommand.Create(),
        ScoreCommand.Create(),
        ProbeCommand.Create(),
        ConformanceCommand.Create(),
        MockWebUiCommand.Create(),
        DoctorCommand.Create(),
        SweepCommand.Create(),
        CompareCommand.Create(),
        IdPhotoCommand.Create(),
        DatasetCommand.Create(),
        LoraCommand.Create(),
        ServeCommand.Create(),
        BatchCommand.Create(),
        TemplatesCommand.Create(),
    });

    /// <summary>
    /// Runs a command. Ctrl+C and SIGTERM cancel the command's token and the process waits for the command to finish
    /// cleanly (interrupt the box, save the manifest); System.CommandLine's own handling would return after its
    /// timeout and end the process mid-write.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        // Memory used by a burst of large images goes back to the system after it (ImageSharp's retained pool is small).
        Miaoya.Imaging.ImageMemory.UseBoundedPool();
        using var stop = new CancellationTokenSource();
        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        var configuration = RunConfiguration.Value = MiaoyaConfiguration.Load();
        var parsed = Create().Parse(args);
        var problems = ConfigurationProblems(configuration);
        if (parsed.Errors.Count > 0)
        {
            // Bad input is exit code 2 everywhere (System.CommandLine's own error path returns 1, the code for a failed step).
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync(error.Message);
            }

            foreach (var hint in TypoHints(parsed))
            {
                await Console.Error.WriteLineAsync(hint);
            }

            await Console.Error.WriteLineAsync($"Run '{string.Join(' ', ["miaoya", .. CommandPath(parsed.CommandResult)])} --help' for usage.");
            // A command line may be wrong only because the configuration is (a box address in a miaoya.json that is not JSON).
            await WriteProblemsAsync(configuration, problems);
            return 2;
        }

        if (problems.Count > 0)
        {
            await WriteProblemsAsync(configuration, problems);
            return 2;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stop.Token);
    }

    private static async Task WriteProblemsAsync(MiaoyaConfiguration configuration, IReadOnlyList<string> problems)
    {
        if (problems.Count == 0)
        {
            return;
        }

        await Console.Error.WriteLineAsync($"error: the configuration has problems ({string.Join(", ", configuration.Sources)}):");
        foreach (var problem in problems)
        {
            await Console.Error.WriteLineAsync("  " + Limits.UserText.EscapeControl(problem));
        }
    }

    /// <summary>
    /// Every problem of the settings every command reads, before any command runs: the box credentials
    /// (<c>MIAOYA_WEBUI_AUTH</c>), and the WebUI client (<c>WebUi</c>) and fleet (<c>Fleet</c>) sections of appsettings.json,
    /// miaoya.json and the <c>MIAOYA_</c> environment: unknown keys, values that are not of their type, values out of
    /// range, each naming its file or variable.
    /// </summary>
    internal static IReadOnlyList<string> ConfigurationProblems(MiaoyaConfiguration configuration)
    {
        var problems = new List<string>();
        if (CliOptions.CheckAuthVariable() is { } auth)
        {
            problems.Add(auth);
        }

        problems.AddRange(configuration.Problems);
        return problems;
    }

    /// <summary>
    /// A "did you mean" line for each word of the command line that matched nothing and is a near miss
    /// (<see cref="Limits.NameDistance"/>) of a subcommand of the command it was given to (<c>miaoya rnu</c>: <c>miaoya run</c>)
    /// or, for a word starting with '-', of one of that command's options.
    /// </summary>
    internal static IEnumerable<string> TypoHints(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        foreach (var token in parsed.UnmatchedTokens)
        {
            var known = token.StartsWith('-')
                ? command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name))
                : command.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Prepend(c.Name));
            if (Limits.NameDistance.DidYouMean(token, known) is { } near)
            {
                var suggestion = token.StartsWith('-') ? near : string.Join(' ', ["miaoya", .. CommandPath(parsed.CommandResult), near]);
                yield return $"'{Limits.UserText.EscapeControl(token)}': did you mean '{suggestion}'?";
            }
        }
    }

    private static Stack<string> CommandPath(System.CommandLine.Parsing.CommandResult? result)
    {
        var names = new Stack<string>();
        for (var r = result; r is not null && r.Parent is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Push(r.Command.Name);
        }

        return names;
    }
}
