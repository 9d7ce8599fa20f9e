namespace Miaoya.Templates.Tests;

/// <summary>A temporary library folder with the shipped astronaut photo available to copy in.</summary>
internal sealed class TemplateFolder : IDisposable
{
    public TemplateFolder()
    {
        Directory.CreateDirectory(Path);
    }

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "miaoya-templates-" + Guid.NewGuid().ToString("N"));

    public static string Shipped(string file) => System.IO.Path.Combine(AppContext.BaseDirectory, "ShippedTemplates", file);

    public TemplateLibrary Library => new(Path);

    /// <summary>Writes NAME.yaml with <paramref name="yaml"/> and, unless <paramref name="image"/> is null, copies that shipped image as NAME.png.</summary>
    public string Add(string name, string yaml, string? image = "astronaut.png")
    {
        var metadata = System.IO.Path.Combine(Path, name + ".yaml");
        File.WriteAllText(metadata, yaml);
        if (image is not null)
        {
            File.Copy(Shipped(image), System.IO.Path.Combine(Path, name + System.IO.Path.GetExtension(image)), overwrite: true);
        }

        return metadata;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    public const string Valid = """
        title: Astronaut
        tags: [portrait, studio]
        people: 1
        model_family: sd15
        recipe: v1-face
        overrides:
          - inpaint.denoising_strength=0.5
        style_lora: { name: film, weight: 0.6 }
        prompt:
          positive_add: soft light
          negative_add: cartoon
        licence:
          name: Public domain
          source: https://example.org/astronaut
          author: NASA
        """;
}
