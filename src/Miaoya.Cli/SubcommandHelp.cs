using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Miaoya.Cli;

/// <summary>
/// Help for a subcommand without its parent's arguments. System.CommandLine writes a subcommand's usage with every
/// parent argument in it (<c>miaoya idphoto &lt;IMAGE&gt; check &lt;IMAGE&gt;</c>) and lists them among its own, although
/// <c>idphoto IMAGE</c> and <c>idphoto check IMAGE</c> are different commands; this help hides the parents' arguments
/// while it writes.
/// </summary>
internal sealed class SubcommandHelp(CommandLineAction inner) : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    /// <summary>Puts this help on <paramref name="root"/>'s --help (which every subcommand shares).</summary>
    public static RootCommand Install(RootCommand root)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new SubcommandHelp(help.Action ?? new HelpAction());
        return root;
    }

    public override int Invoke(ParseResult parseResult)
    {
        var hidden = new List<Argument>();
        for (var command = parseResult.CommandResult.Command.Parents.OfType<Command>().FirstOrDefault(); command is not null; command = command.Parents.OfType<Command>().FirstOrDefault())
        {
            hidden.AddRange(command.Arguments.Where(a => !a.Hidden));
        }

        hidden.ForEach(a => a.Hidden = true);
        try
        {
            return inner is SynchronousCommandLineAction sync ? sync.Invoke(parseResult) : new HelpAction().Invoke(parseResult);
        }
        finally
        {
            hidden.ForEach(a => a.Hidden = false);
        }
    }
}
