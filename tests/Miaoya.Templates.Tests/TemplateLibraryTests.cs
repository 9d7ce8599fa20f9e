using Miaoya.Recipes;

namespace Miaoya.Templates.Tests;

public sealed class TemplateLibraryTests : IDisposable
{
    private readonly TemplateFolder _folder = new();

    [Fact]
    public void Get_ValidTemplate_ReadsEveryField()
    {
        // Arrange
        _folder.Add("astro", TemplateFolder.Valid);

        // Act
        var t = _folder.Library.Get("astro");

        // Assert
        Assert.Equal("Astronaut", t.Title);
        Assert.Equal(["portrait", "studio"], t.Tags);
        Assert.Equal(1, t.People);
        Assert.Equal(ModelFamily.Sd15, t.ModelFamily);
        Assert.Equal("v1-face", t.Recipe);
        Assert.Equal(["inpaint.denoising_strength=0.5"], t.Overrides);
        Assert.Equal(new StyleLora("film", 0.6), t.StyleLora);
        Assert.Equal("soft light", t.PositiveAdd);
        Assert.Equal("cartoon", t.NegativeAdd);
        Assert.Equal(new TemplateLicence("Public domain", "https://example.org/astronaut", "NASA"), t.Licence);
        Assert.Equal(Path.Combine(_folder.Path, "astro.png"), t.ImagePath);
    }

    [Fact]
    public void Get_BadYaml_IsOneProblemAtItsLine()
    {
        _folder.Add("bad", "title: x\npeople: [1\n");

        var e = Assert.Throws<TemplateException>(() => _folder.Library.Get("bad"));

        var p = Assert.Single(e.Problems);
        Assert.EndsWith("bad.yaml", p.Source, StringComparison.Ordinal);
        Assert.True(p.Line >= 2, p.ToString());
        Assert.Contains("not valid YAML", p.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Get_UnknownKeyWrongTypeAndMissingField_AreAllListedWithFileLineAndDidYouMean()
    {
        // Arrange: a typo'd key on line 3, a list where a number belongs on line 4, and no licence at all.
        _folder.Add("typo", """
            title: Astronaut
            model_family: sd15
            peple: 1
            people: [1, 2]
            style_lora: { name: film, wieght: 0.5 }
            """);

        // Act
        var e = Assert.Throws<TemplateException>(() => _folder.Library.Get("typo"));
        var lines = e.Problems.Select(p => p.ToString()).ToList();

        // Assert
        Assert.Contains(lines, l => l.Contains("typo.yaml:3:1: peple: unknown key 'peple'; did you mean 'people'?", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("typo.yaml:4:9: people: expected a whole number, got a list", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("typo.yaml:5:27: style_lora.wieght: unknown key 'wieght'; did you mean 'weight'?", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("style_lora.weight: required", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("licence: required", StringComparison.Ordinal));
    }

    [Fact]
    public void Get_BadValues_NameTheFieldAndWhatIsRight()
    {
        _folder.Add("values", """
            title: Astronaut
            people: 1
            hints: [{ gender: femal, age: adult }, { gender: male, age: adult }]
            model_family: sd21
            recipe: v1-fcae
            overrides: ["nonsense", "prompt.positive=x"]
            prompt: { positive_add: "<lora:x:1>" }
            licence: { name: CC0, source: not a url, author: me }
            """);

        var e = Assert.Throws<TemplateException>(() => _folder.Library.Get("values"));
        var text = string.Join('\n', e.Problems);

        Assert.Contains("hints[0].gender: 'femal' is not one of female, male, any; did you mean 'female'?", text, StringComparison.Ordinal);
        Assert.Contains("hints: 2 hints for 1 person", text, StringComparison.Ordinal);
        Assert.Contains("model_family: 'sd21' is not one of sd15, sdxl", text, StringComparison.Ordinal);
        Assert.Contains("recipe: 'v1-fcae' is neither a built-in recipe (did you mean 'v1-face'?)", text, StringComparison.Ordinal);
        Assert.Contains("overrides[0]: 'nonsense' is not path=value", text, StringComparison.Ordinal);
        Assert.Contains("overrides[1]: the template's prompt text goes in prompt.positive_add", text, StringComparison.Ordinal);
        Assert.Contains("prompt.positive_add: holds a <lora:...> tag", text, StringComparison.Ordinal);
        Assert.Contains("licence.source: 'not a url' is not an http(s) URL", text, StringComparison.Ordinal);
        Assert.All(e.Problems, p => Assert.True(p.Line > 0, p.ToString()));
    }

    [Fact]
    public void Get_MissingImageOrUnknownName_SaysSo()
    {
        _folder.Add("alone", TemplateFolder.Valid, image: null);
        _folder.Add("astro", TemplateFolder.Valid);

        var missing = Assert.Throws<TemplateException>(() => _folder.Library.Get("alone"));
        Assert.Contains("alone.yaml:1:1: image: no image beside it: add alone.png", missing.Message, StringComparison.Ordinal);

        var unknown = Assert.Throws<TemplateException>(() => _folder.Library.Get("astor"));
        Assert.Contains("no template 'astor'", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'astro'?", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckAsync_PeopleMismatchUndecodableImageAndOrphanImage_AreAllReported()
    {
        // Arrange: the astronaut has one face, the file says two; a "PNG" that is text; an image without metadata.
        _folder.Add("two", TemplateFolder.Valid.Replace("people: 1", "people: 2", StringComparison.Ordinal));
        _folder.Add("broken", TemplateFolder.Valid, image: null);
        await File.WriteAllTextAsync(Path.Combine(_folder.Path, "broken.png"), "not an image");
        File.Copy(TemplateFolder.Shipped("astronaut.png"), Path.Combine(_folder.Path, "orphan.png"));

        // Act
        var problems = (await _folder.Library.CheckAsync()).Select(p => p.ToString()).ToList();

        // Assert
        Assert.Contains(problems, p => p.Contains("two.yaml:3:1: people: says 2, but the face detector (BlazeFace) finds 1 face in two.png", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("broken.png: not a PNG, JPEG or WebP file", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("orphan.png: an image without metadata", StringComparison.Ordinal));
        Assert.Equal(3, problems.Count);
    }

    [Fact]
    public async Task CheckAsync_OverrideTheRecipeLacks_IsReportedAtTheOverridesLine_AndFamilyMismatch()
    {
        _folder.Add("o", TemplateFolder.Valid.Replace("inpaint.denoising_strength=0.5", "inpaint.denoising_strenght=0.5", StringComparison.Ordinal));
        _folder.Add("xl", TemplateFolder.Valid.Replace("model_family: sd15", "model_family: sdxl", StringComparison.Ordinal));

        var problems = (await _folder.Library.CheckAsync()).Select(p => p.ToString()).ToList();

        Assert.Contains(problems, p => p.Contains("o.yaml:7:5: overrides[0]: with recipe v1-face: inpaint.denoising_strenght: no such field in the recipe; did you mean inpaint.denoising_strength?", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("xl.yaml:4:1: model_family: is sdxl, but recipe v1-face is for sd15", StringComparison.Ordinal));
        Assert.Equal(2, problems.Count);
    }

    [Fact]
    public async Task AddAsync_CountsFaces_WritesAValidPair_AndRefusesTheNameAgainUnlessForced()
    {
        var library = _folder.Library;
        var draft = new TemplateDraft
        {
            Name = "new-one",
            Title = "A \"quoted\" title: with colon",
            Tags = ["portrait"],
            Recipe = "v1-face",
            StyleLora = new StyleLora("film", 0.5),
            PositiveAdd = "soft light",
            Licence = new TemplateLicence("CC0-1.0", "https://example.org/p", "Someone"),
        };

        var added = await library.AddAsync(draft, TemplateFolder.Shipped("astronaut.png"), force: false);

        Assert.Equal(1, added.People);
        var read = library.Get("new-one");
        Assert.Equal("A \"quoted\" title: with colon", read.Title);
        Assert.Equal(new StyleLora("film", 0.5), read.StyleLora);
        Assert.Empty(await library.CheckAsync());
        Assert.Empty(Directory.GetFiles(_folder.Path, ".*"));

        var again = await Assert.ThrowsAsync<TemplateException>(() => library.AddAsync(draft, TemplateFolder.Shipped("astronaut.png"), force: false));
        Assert.Contains("already in", again.Message, StringComparison.Ordinal);
        await library.AddAsync(draft with { Title = "Replaced" }, TemplateFolder.Shipped("astronaut.png"), force: true);
        Assert.Equal("Replaced", library.Get("new-one").Title);
    }

    [Fact]
    public async Task AddAsync_WrongPeopleOrBadName_IsRefusedAndWritesNothing()
    {
        var draft = new TemplateDraft { Name = "two", Title = "t", People = 2, Licence = new TemplateLicence("CC0", "https://example.org", "me") };

        var e = await Assert.ThrowsAsync<TemplateException>(() => _folder.Library.AddAsync(draft, TemplateFolder.Shipped("astronaut.png"), force: false));
        Assert.Contains("--people: 2, but the face detector (BlazeFace) finds 1 face", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<TemplateException>(() => _folder.Library.AddAsync(draft with { Name = "Bad Name", People = null }, TemplateFolder.Shipped("astronaut.png"), force: false));
        Assert.Empty(Directory.GetFiles(_folder.Path));
    }

    [Fact]
    public void Locate_GivenThenConfiguredThenWorkingFolderThenBesideTheProgram()
    {
        var app = Path.Combine(_folder.Path, "app");
        Assert.Equal(Path.GetFullPath("/given"), TemplateLibrary.Locate("/given", "/configured", _folder.Path, app).Directory);
        Assert.Equal(Path.GetFullPath("/configured"), TemplateLibrary.Locate(null, "/configured", _folder.Path, app).Directory);
        Assert.Equal(Path.Combine(app, "templates"), TemplateLibrary.Locate(null, null, _folder.Path, app).Directory);
        Directory.CreateDirectory(Path.Combine(_folder.Path, "templates"));
        Assert.Equal(Path.Combine(_folder.Path, "templates"), TemplateLibrary.Locate(null, null, _folder.Path, app).Directory);
    }

    public void Dispose() => _folder.Dispose();
}
