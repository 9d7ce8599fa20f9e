namespace Miaoya.Templates.Tests;

/// <summary>The repository's templates/ folder, as committed.</summary>
public sealed class ShippedTemplatesTests
{
    private static readonly TemplateLibrary Shipped = new(Path.Combine(AppContext.BaseDirectory, "ShippedTemplates"));

    [Fact]
    public async Task EveryShippedTemplate_PassesCheck()
    {
        var problems = await Shipped.CheckAsync();

        Assert.True(problems.Count == 0, string.Join('\n', problems));
        Assert.True(Shipped.Load().Templates.Count >= 3);
    }

    [Fact]
    public void EveryShippedTemplate_IsInLicencesMd()
    {
        var licences = File.ReadAllText(Path.Combine(Shipped.Directory, "LICENCES.md"));

        foreach (var t in Shipped.Load().Templates)
        {
            Assert.Contains(Path.GetFileName(t.ImagePath), licences, StringComparison.Ordinal);
            Assert.Contains(t.Licence.Source, licences, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Gallery_HasACardPerTemplate_WithEmbeddedThumbnailAndLicence()
    {
        var templates = Shipped.Load().Templates;
        var path = Path.Combine(Path.GetTempPath(), $"miaoya-gallery-{Guid.NewGuid():N}", "gallery.html");
        try
        {
            await TemplateGallery.WriteAsync(path, Shipped.Directory, templates);
            var html = await File.ReadAllTextAsync(path);

            Assert.Equal(templates.Count, html.Split("class=\"card\"").Length - 1);
            Assert.Equal(templates.Count, html.Split("src=\"data:image/jpeg;base64,").Length - 1);
            Assert.Contains("Public domain (NASA)", html, StringComparison.Ordinal);
            Assert.Contains("&lt;lora:bw_film_grain:0.6&gt;", html, StringComparison.Ordinal);
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
