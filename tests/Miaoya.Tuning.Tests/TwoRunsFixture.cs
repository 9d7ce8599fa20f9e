namespace Miaoya.Tuning.Tests;

/// <summary>A finished two-cell sweep on the mock WebUI (softedge weight 0.5 and 1.0), shared by the compare and browser tests.</summary>
public sealed class TwoRunsFixture : IAsyncLifetime, IDisposable
{
    private readonly SweepHarness _harness = new();

    public string Folder => _harness.Folder;

    public SweepManifest Manifest { get; private set; } = null!;

    public string RunA => Path.Combine(Folder, Manifest.Cells[0].Folder);

    public string RunB => Path.Combine(Folder, Manifest.Cells[1].Folder);

    public async Task InitializeAsync()
    {
        var manifest = SweepManifest.Create(SweepHarness.Definition(new SweepAxis("inpaint.controlnet.softedge.weight", ["0.5", "1.0"])) with { Sets = ["inpaint.steps=20"] });
        Manifest = await _harness.Runner().RunAsync(Folder, manifest);
        await ContactSheet.WriteHtmlAsync(Folder, Manifest);
        await ContactSheet.WritePngAsync(Folder, Manifest);
    }

    public Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _harness.Dispose();
}

[CollectionDefinition(Name)]
public sealed class TwoRunsGroup : ICollectionFixture<TwoRunsFixture>
{
    public const string Name = "two runs";
}
