using Miaoya.Likeness;

namespace Miaoya.Cli.Commands;

/// <summary>Where the likeness scorer's model is, from <c>--models DIR</c> or <c>--model FILE</c> (score and sweep say the same).</summary>
internal static class ScorerModelFile
{
    /// <summary>The model file: --model, or the distributed file name in --models; null with the problem otherwise.</summary>
    public static string? Find(ScorerKind kind, DirectoryInfo? models, FileInfo? model, out string? problem)
    {
        var name = FaceScorer.DefaultFileName(kind);
        var where = FaceScorer.Origin(kind);
        problem = null;
        if (models is not null && model is not null)
        {
            problem = "give --models DIR or --model FILE, not both.";
            return null;
        }

        if (model is not null)
        {
            if (!model.Exists)
            {
                problem = $"--model {model}: no such file.";
                return null;
            }

            return model.FullName;
        }

        if (models is null)
        {
            problem = $"give --models DIR (a folder with {name}) or --model FILE; {name} is {where}.";
            return null;
        }

        var path = Path.Combine(models.FullName, name);
        if (!File.Exists(path))
        {
            problem = $"--models {models}: no {name} there ({where}).";
            return null;
        }

        return path;
    }
}
