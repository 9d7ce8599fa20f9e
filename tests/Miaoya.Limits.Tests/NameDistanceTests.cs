namespace Miaoya.Limits.Tests;

public sealed class NameDistanceTests
{
    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("", "run", 3)]
    [InlineData("run", "", 3)]
    [InlineData("run", "run", 0)]
    [InlineData("rnu", "run", 2)] // a swap is two edits
    [InlineData("V4-FaceID", "v4-faceid", 0)] // case is ignored
    [InlineData("chilloutmix", "chilloutmix_NiPrunedFp32Fix", 16)]
    public void Between_IsTheLevenshteinDistance_IgnoringCase(string a, string b, int expected)
    {
        Assert.Equal(expected, NameDistance.Between(a, b));
        Assert.Equal(expected, NameDistance.Between(b, a));
    }

    [Theory]
    [InlineData("rnu", "run")]
    [InlineData("v2x", "v2")]
    [InlineData("v4-faceidd", "v4-faceid")]
    [InlineData("V3", "v3")] // differs only in case: still worth saying
    [InlineData("v3", null)] // the name itself: nothing to suggest
    [InlineData("xyzzy", null)] // near nothing
    [InlineData("faceswap-v3", null)] // far from every name: no guess
    public void DidYouMean_TheNearestNameWithinAThirdOfTheWord(string wanted, string? expected)
    {
        string[] known = ["run", "replay", "v1-face", "v2", "v3", "v4-faceid"];

        Assert.Equal(expected, NameDistance.DidYouMean(wanted, known));
    }

    [Fact]
    public void DidYouMean_TakesTheFirstOfEquallyNearNames_AndAnExplicitLimit()
    {
        Assert.Equal("v2", NameDistance.DidYouMean("v5", ["v2", "v3"]));
        Assert.Null(NameDistance.DidYouMean("v5", ["v2", "v3"], maxDistance: 0));
        Assert.Null(NameDistance.DidYouMean("anything", []));
    }
}
