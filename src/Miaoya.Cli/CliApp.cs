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
        DatasetCommand.Create(),
        LoraCommand.Create(),
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
        return await Create().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stop.Token);
    }
}
