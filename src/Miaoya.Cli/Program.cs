using System.CommandLine;
using Miaoya.Cli.Commands;

var root = new RootCommand("Miaoya Orchestrator: portrait and ID-photo jobs on AUTOMATIC1111 WebUI boxes.")
{
    DemoCommand.Create(),
    ProbeCommand.Create(),
    MockWebUiCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
