namespace Miaoya.Cli.Tests;

/// <summary>"Did you mean" for a mistyped command, option or recipe name; all bad input (exit 2).</summary>
[Collection(ConsoleTests.Name)]
public sealed class TypoHintCliTests
{
    [Theory]
    [InlineData("rnu", "'rnu': did you mean 'miaoya run'?")]
    [InlineData("dcotor", "'dcotor': did you mean 'miaoya doctor'?")]
    [InlineData("recipe explian v2", "'explian': did you mean 'miaoya recipe explain'?")]
    [InlineData("lora trian ds", "'trian': did you mean 'miaoya lora train'?")]
    [InlineData("run v2 --templat t.png --lora a", "'--templat': did you mean '--template'?")]
    public async Task MistypedCommandOrOption_IsExit2_WithTheNearestName(string commandLine, string hint)
    {
        var (code, _, error) = await CliRunner.RunAsync(commandLine.Split(' '));

        Assert.Equal(2, code);
        Assert.Contains(hint, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWordNearNothing_GetsNoGuess()
    {
        var (code, _, error) = await CliRunner.RunAsync("xyzzy");

        Assert.Equal(2, code);
        Assert.Contains("Unrecognized command or argument 'xyzzy'", error, StringComparison.Ordinal);
        Assert.DoesNotContain("did you mean", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run v2x --template t.png --lora a", "v2x: no such recipe file (did you mean 'v2'?); the built-in recipes are v1-face")]
    [InlineData("recipe explain v4-faceidd --template t.png", "v4-faceidd: no such recipe file (did you mean 'v4-faceid'?)")]
    [InlineData("recipe validate V3", "V3: no such recipe file (did you mean 'v3'?)")]
    public async Task MistypedRecipeName_IsExit2_WithTheNearestBuiltIn(string commandLine, string message)
    {
        var (code, _, error) = await CliRunner.RunAsync(commandLine.Split(' '));

        Assert.Equal(2, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
