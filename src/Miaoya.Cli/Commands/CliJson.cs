using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.Cli.Commands;

/// <summary>How every <c>--json</c> option prints: indented, with &lt;, &gt;, + and non-ASCII text as they are (not \u escapes).</summary>
internal static class CliJson
{
    public static JsonSerializerOptions Options { get; } = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(JsonNode node) => node.ToJsonString(Options);

    /// <summary>
    /// Runs a command's work with standard output silenced (its progress lines and tables), so that only the JSON object
    /// printed afterwards reaches it; standard error (errors, warnings) is untouched.
    /// </summary>
    public static async Task<int> SilencedAsync(Func<Task<int>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var stdout = Console.Out;
        Console.SetOut(TextWriter.Null);
        try
        {
            return await work();
        }
        finally
        {
            Console.SetOut(stdout);
        }
    }
}
