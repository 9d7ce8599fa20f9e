using System.CommandLine;
using Miaoya.Cli.Commands;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya mock-webui --profile</c> takes every profile the mock has, and names it back the same way.</summary>
public sealed class MockProfileOptionTests
{
    [Theory]
    [InlineData("webui-1.10", MockWebUiProfile.WebUi110)]
    [InlineData("webui-1.8", MockWebUiProfile.WebUi18)]
    [InlineData("forge", MockWebUiProfile.Forge)]
    [InlineData("reforge", MockWebUiProfile.ReForge)]
    [InlineData("Forge", MockWebUiProfile.Forge)]
    public void MockProfile_ParsesEachName_AndNamesItBack(string name, MockWebUiProfile expected)
    {
        var option = CliOptions.Profile();
        var command = new RootCommand { option };
        var result = command.Parse(["--profile", name]);
        Assert.Empty(result.Errors);
        Assert.Equal(expected, result.GetValue(option));
        Assert.Equal(name.ToLowerInvariant(), MockWebUiCommand.ProfileName(expected));
    }
}
