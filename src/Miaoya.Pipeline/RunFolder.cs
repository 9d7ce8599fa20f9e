using System.Security.Cryptography;
using System.Text.Json;
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

    public Task<FileRecord> WriteAsync(string name, EncodedImage image, CancellationToken cancellationToken) =>
        WriteAsync(name, image.Bytes, cancellationToken);

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
            await using var stream = System.IO.File.OpenRead(path);
            var manifest = await JsonSerializer.DeserializeAsync<RunManifest>(stream, RunManifest.Json, cancellationToken)
                ?? throw new PipelineException($"{path}: empty manifest.");
            if (manifest.Version != RunManifest.CurrentVersion)
            {
                throw new PipelineException($"{path}: manifest version {manifest.Version}; this miaoya reads version {RunManifest.CurrentVersion}.");
            }

            return manifest;
        }
        catch (JsonException e)
        {
            throw new PipelineException($"{path}: not a valid manifest ({e.Message}).", e);
        }
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
        return Sha256(bytes) == record.Sha256 ? new EncodedImage(bytes) : null;
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
