using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace Miaoya.WebUi.Tests;

/// <summary>
/// Approved-file checks: the JSON is compared with <c>Approved/NAME.approved.json</c>; on a difference (or a missing
/// file) a <c>.received.json</c> is written beside it for review and the test fails.
/// </summary>
internal static class Approvals
{
    public static void Verify(string name, string json, [CallerFilePath] string sourceFile = "")
    {
        var pretty = JsonNode.Parse(json)!.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
        var folder = Path.Combine(Path.GetDirectoryName(sourceFile)!, "Approved");
        var approvedPath = Path.Combine(folder, name + ".approved.json");
        var receivedPath = Path.Combine(folder, name + ".received.json");
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : null;
        if (approved == pretty)
        {
            File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(folder);
        File.WriteAllText(receivedPath, pretty);
        Assert.Fail($"{name}: the JSON differs from {approvedPath}; review {receivedPath} and rename it to approve.");
    }
}
