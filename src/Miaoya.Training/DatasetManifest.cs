namespace Miaoya.Training;

/// <summary>One image folder of a dataset, at one resolution (relative to the dataset folder).</summary>
public sealed record DatasetFolder(string Resolution, string ImageDir);

/// <summary>dataset.json, written by <c>miaoya dataset prepare</c>, read by training and ranking.</summary>
public sealed record DatasetManifest
{
    public const string FileName = "dataset.json";

    public required string Name { get; init; }

    public required string Trigger { get; init; }

    public required int Repeats { get; init; }

    public required IReadOnlyList<DatasetFolder> Folders { get; init; }

    /// <summary>Training image file names (the same in every folder), e.g. 001.png.</summary>
    public required IReadOnlyList<string> Images { get; init; }

    /// <summary>Photos to compare validation portraits with, relative to the dataset folder: the held-out photos when there are any, else the training images.</summary>
    public required IReadOnlyList<string> References { get; init; }

    public bool ReferencesAreHeldOut { get; init; }

    public string? TaggerModel { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The dataset folder this manifest was read from (not stored).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Root { get; init; } = "";

    /// <summary>Absolute image folder for a resolution, or null when the dataset has no crops at it.</summary>
    public string? ImageDirFor(TrainingResolution resolution) =>
        Folders.FirstOrDefault(f => f.Resolution == resolution.ToString()) is { } f ? Path.GetFullPath(Path.Combine(Root, f.ImageDir)) : null;

    public static DatasetManifest Load(string datasetDir)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(datasetDir);
        var path = Path.Combine(datasetDir, FileName);
        var manifest = JsonFiles.Read<DatasetManifest>(path)
            ?? throw new TrainingException($"{datasetDir}: no {FileName}; prepare the photos first with: miaoya dataset prepare PHOTOS_DIR --name NAME --out {datasetDir}", badInput: true);
        manifest = manifest with { Root = Path.GetFullPath(datasetDir) };
        foreach (var folder in manifest.Folders)
        {
            var dir = Path.Combine(manifest.Root, folder.ImageDir);
            var missing = manifest.Images.Where(i => !File.Exists(Path.Combine(dir, i))).ToArray();
            if (missing.Length > 0)
            {
                throw new TrainingException($"{dir}: missing {string.Join(", ", missing.Take(5))}{(missing.Length > 5 ? " …" : "")} listed in {path}; prepare the dataset again.", badInput: true);
            }
        }

        return manifest;
    }
}
