using System.CommandLine;
using Microsoft.Extensions.Configuration;
using System.Runtime.InteropServices;
using Miaoya.Cli.Commands;

namespace Miaoya.Cli;

/// <summary>The <c>miaoya</c> command tree.</summary>
internal static class CliApp
{
    public static RootCommand Create() => new("Miaoya Orchestrator: portrait and ID-photo jobs on AUTOMATIC1111 WebUI boxes.")
    {
        DemoCommand.Create(),
        RunCommand.Create(),
        RecipeCommand.Create(),
        ReplayCommand.Create(),
        FaceSwapCommand.Create(),
        ProbeCommand.Create(),
        MockWebUiCommand.Create(),
        DoctorCommand.Create(),
        SweepCommand.Create(),
        CompareCommand.Create(),
        IdPhotoCommand.Create(),
        DatasetCommand.Create(),
        LoraCommand.Create(),
        ServeCommand.Create(),
        BatchCommand.Create(),
    };

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
        var parsed = Create().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // Bad input is exit code 2 everywhere (System.CommandLine's own error path returns 1, the code for a failed step).
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync(error.Message);
            }

            await Console.Error.WriteLineAsync($"Run '{string.Join(' ', ["miaoya", .. CommandPath(parsed.CommandResult)])} --help' for usage.");
            return 2;
        }

        if (EnvironmentProblems() is { Count: > 0 } problems)
        {
            await Console.Error.WriteLineAsync($"error: the {WebUiSession.EnvironmentPrefix}* environment variables have problems:");
            foreach (var problem in problems)
            {
                await Console.Error.WriteLineAsync("  " + problem);
            }

            return 2;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stop.Token);
    }

    /// <summary>
    /// Every problem of the settings every command reads from the environment, before any command runs: the box
    /// credentials (<c>MIAOYA_WEBUI_AUTH</c>), the WebUI client (<c>MIAOYA_WebUi__*</c>) and the fleet
    /// (<c>MIAOYA_Fleet__*</c>): unknown keys, values that are not of their type, values out of range.
    /// </summary>
    internal static IReadOnlyList<string> EnvironmentProblems()
    {
        var problems = new List<string>();
        if (CliOptions.CheckAuthVariable() is { } auth)
        {
            problems.Add(auth);
        }

        var environment = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddEnvironmentVariables(WebUiSession.EnvironmentPrefix).Build();
        problems.AddRange(Miaoya.WebUi.ConfigurationCheck.WebUiProblems(environment).Select(AsVariable));
        problems.AddRange(Miaoya.WebUi.ConfigurationCheck.Problems(environment.GetSection(Miaoya.Fleet.FleetOptions.SectionName), typeof(Miaoya.Fleet.FleetOptions)).Select(AsVariable));
        return problems;

        // "WebUi:ControlRetries: message" as the variable the user set: "MIAOYA_WebUi__ControlRetries: message".
        static string AsVariable(string problem)
        {
            var end = problem.IndexOf(": ", StringComparison.Ordinal);
            return end < 0 ? problem : WebUiSession.EnvironmentPrefix + problem[..end].Replace(":", "__", StringComparison.Ordinal) + problem[end..];
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
