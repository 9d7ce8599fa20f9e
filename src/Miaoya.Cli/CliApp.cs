using System.CommandLine;
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
        ProbeCommand.Create(),
        MockWebUiCommand.Create(),
    };

    public static Task<int> RunAsync(string[] args) => Create().Parse(args).InvokeAsync();
}
