using System.CommandLine;
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

        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stop.Token);
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
