using System.Globalization;
using Miaoya.Imaging;
using Miaoya.Runner;

namespace Miaoya.Server;

/// <summary>Where uploads wait, and the sweep of what a dead process left there.</summary>
internal static class UploadStaging
{
    /// <summary>
    /// Deletes staging folders of this program whose process is gone (crashed or killed mid-request): personal data must
    /// not outlive its request. A folder of a live process (another instance sharing the folder) is left alone. Returns
    /// the folders removed.
    /// </summary>
    public static IReadOnlyList<string> Sweep(string? uploadDirectory)
    {
        var root = SubmissionReader.StagingRoot(uploadDirectory);
        var removed = new List<string>();
        if (!Directory.Exists(root))
        {
            return removed;
        }

        foreach (var folder in Directory.EnumerateDirectories(root, SubmissionReader.StagingPrefix + "*"))
        {
            // miaoya-upload-PID-GUID; folders of older releases (no process id) are always left over.
            var rest = Path.GetFileName(folder)[SubmissionReader.StagingPrefix.Length..];
            var dash = rest.IndexOf('-', StringComparison.Ordinal);
            var live = dash > 0 && int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && (pid == Environment.ProcessId || IsRunning(pid));
            if (live)
            {
                continue;
            }

            try
            {
                Directory.Delete(folder, recursive: true);
                removed.Add(folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's folder, or one in use: not ours to force.
            }
        }

        return removed;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}

/// <summary>A checked image from a request, and the file name it is staged under.</summary>
internal sealed record UploadedImage(EncodedImage Image, string Name);

/// <summary>The fields of a submission as sent.</summary>
internal sealed record SubmissionForm
{
    public UploadedImage? Template { get; init; }

    /// <summary>A template of the server's library instead of an uploaded one (SubmissionReader.Templates.cs).</summary>
    public string? TemplateName { get; init; }

    /// <summary>The person's face photos, in the order sent.</summary>
    public IReadOnlyList<UploadedImage> Faces { get; init; } = [];

    public string? Recipe { get; init; }

    public string? RecipeYaml { get; init; }

    public string? Lora { get; init; }

    public IReadOnlyList<string> Trigger { get; init; } = [];

    public string? Identity { get; init; }

    public long? Seed { get; init; }

    public IReadOnlyList<string> Overrides { get; init; } = [];

    public int? FaceIndex { get; init; }

    public int? Candidates { get; init; }

    /// <summary>Several people in one template, in the order sent (SubmissionReader.People.cs).</summary>
    public IReadOnlyList<PersonForm> People { get; init; } = [];
}

/// <summary>A submission whose images sit in a temporary folder until the submitter has copied them; disposing deletes it.</summary>
internal sealed class StagedSubmission(JobSubmission submission, string folder) : IDisposable
{
    public JobSubmission Submission { get; } = submission;

    /// <summary>The temporary folder (scrubbed from error messages: it means nothing to the caller).</summary>
    public string Folder { get; } = folder;

    /// <summary>The staging subfolder of the <paramref name="index"/>th face photo (0: <c>f</c>, then <c>f2</c>, <c>f3</c>, ...).</summary>
    public static string FaceFolder(int index) => index == 0 ? "f" : string.Create(CultureInfo.InvariantCulture, $"f{index + 1}");

    /// <summary>A message with the staged files' paths shortened to their names and the folder itself to "(upload)".</summary>
    public string Scrub(string message)
    {
        foreach (var sub in Submission.FacePaths.Select((_, i) => FaceFolder(i)).Prepend("t"))
        {
            message = message.Replace(Path.Combine(Folder, sub) + Path.DirectorySeparatorChar, "", StringComparison.Ordinal);
        }

        foreach (var photo in Submission.People.SelectMany(p => p.FacePaths))
        {
            message = message.Replace(Path.GetDirectoryName(photo) + Path.DirectorySeparatorChar, "", StringComparison.Ordinal);
        }

        return message.Replace(Folder, "(upload)", StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
