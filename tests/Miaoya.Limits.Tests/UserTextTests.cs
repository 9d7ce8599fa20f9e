namespace Miaoya.Limits.Tests;

public sealed class UserTextTests
{
    [Fact]
    public void Quote_EscapesTerminalControls_AndCutsLongText()
    {
        var quoted = UserText.Quote("red\u001b[31m\nline" + new string('x', 500));

        Assert.StartsWith("red\\u001b[31m\\nline", quoted, StringComparison.Ordinal);
        Assert.EndsWith("… (513 characters)", quoted, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', quoted);
        Assert.DoesNotContain('\n', quoted);
    }

    [Theory]
    [InlineData("plain words", 100, false, null)]
    [InlineData("two\nlines", 100, true, null)]
    [InlineData("two\nlines", 100, false, "control character \\n")]
    [InlineData("bell\u0007", 100, true, "control character \\u0007")]
    [InlineData("right-to-left \u202e override", 100, true, "control character \\u202e")]
    [InlineData("toolong", 3, false, "7 characters; at most 3")]
    public void Problem_NamesWhatIsWrong(string text, int max, bool multiline, string? expected)
    {
        var problem = UserText.Problem(text, max, multiline);

        if (expected is null)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.Contains(expected, problem, StringComparison.Ordinal);
        }
    }
}
