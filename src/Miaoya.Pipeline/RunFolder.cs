using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Miaoya.Imaging;

namespace Miaoya.Pipeline;

/// <summary>The folder of one run: every file is written atomically and recorded with its sha256.</summary>
public sealed class RunFolder
{
    public const string ManifestFileName = "manifest.json";

    public RunFolder(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public bool HasManifest => System.IO.File.Exists(File(ManifestFileName));

    public async Task<FileRecord> WriteAsync(string name, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await AtomicFile.WriteAllBytesAsync(File(name), bytes, cancellationToken);
        return new FileRecord(name, Sha256(bytes.Span));
    }

    public async Task<FileRecord> WriteAsync(string name, EncodedImage image, CancellationToken cancellationToken)
    {
        await AtomicFile.WriteAllBytesAsync(File(name), image.Bytes, cancellationToken);
        return new FileRecord(name, Sha256(image));
    }

    public Task<FileRecord> WriteTextAsync(string name, string text, CancellationToken cancellationToken) =>
        WriteAsync(name, System.Text.Encoding.UTF8.GetBytes(text), cancellationToken);

    public Task SaveManifestAsync(RunManifest manifest, CancellationToken cancellationToken) =>
        AtomicFile.WriteAllBytesAsync(File(ManifestFileName), JsonSerializer.SerializeToUtf8Bytes(manifest, RunManifest.Json), cancellationToken);

    public async Task<RunManifest> LoadManifestAsync(CancellationToken cancellationToken)
    {
        var path = File(ManifestFileName);
        if (!System.IO.File.Exists(path))
        {
            throw new PipelineException($"{path}: no manifest; is this a run folder written by 'miaoya run'?");
        }

        try
        {
            var json = JsonNode.Parse(await System.IO.File.ReadAllBytesAsync(path, cancellationToken)) as JsonObject
                ?? throw new PipelineException($"{path}: empty manifest.");
            var version = json["version"]?.GetValue<int>() ?? 0;
            if (version is < 1 or > RunManifest.CurrentVersion)
            {
                throw new PipelineException($"{path}: manifest version {version}; this miaoya reads versions 1 to {RunManifest.CurrentVersion}.");
            }

            if (version == 1)
            {
                FromVersion1(json);
            }

            return json.Deserialize<RunManifest>(RunManifest.Json) ?? throw new PipelineException($"{path}: empty manifest.");
        }
        catch (JsonException e)
        {
            throw new PipelineException($"{path}: not a valid manifest ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Version 1 kept a step's result and the box of its call in one <c>data</c> object; version 2 has them apart
    /// (<c>result</c>, <c>box</c>) under the same keys. An ID photo's colour correction that was off was <c>false</c>.
    /// </summary>
    private static void FromVersion1(JsonObject manifest)
    {
        foreach (var step in manifest["steps"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            if (step["data"] is JsonObject data)
            {
                step.Remove("data");
                if (data["box"] is { } box)
                {
                    data.Remove("box");
                    step["box"] = box;
                }

                if (data["colour_correction"] is JsonValue off && off.GetValueKind() == System.Text.Json.JsonValueKind.False)
                {
                    data.Remove("colour_correction");
                }

                step["result"] = data;
            }
        }

        manifest["version"] = RunManifest.CurrentVersion;
    }

    /// <summary>The recorded file, if it is still there with the same content.</summary>
    public async Task<EncodedImage?> ReadVerifiedAsync(FileRecord record, CancellationToken cancellationToken)
    {
        var path = File(record.File);
        if (!System.IO.File.Exists(path))
        {
            return null;
        }

        var bytes = await System.IO.File.ReadAllBytesAsync(path, cancellationToken);
        if (Sha256(bytes) != record.Sha256)
        {
            return null;
        }

        var image = new EncodedImage(bytes);
        KnownHashes.AddOrUpdate(image, record.Sha256);
        return image;
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// The sha256 of an image's bytes, hashed once per image: an image read or written here is not hashed again when a
    /// request that sends it is recorded (an <see cref="EncodedImage"/>'s bytes never change).
    /// </summary>
    public static string Sha256(EncodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (KnownHashes.TryGetValue(image, out var known))
        {
            return known;
        }

        var sha = Sha256(image.Bytes.Span);
        KnownHashes.AddOrUpdate(image, sha);
        return sha;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<EncodedImage, string> KnownHashes = [];
}
