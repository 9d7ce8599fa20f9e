namespace Miaoya.WebUi.Tests;

/// <summary>One classification of failures: the client, the fleet and the worker agree on every status.</summary>
public sealed class FailuresTests
{
    [Theory]
    [InlineData(408, FailureKind.Transient)]
    [InlineData(429, FailureKind.Transient)]
    [InlineData(502, FailureKind.Transient)]
    [InlineData(503, FailureKind.Transient)]
    [InlineData(504, FailureKind.Transient)]
    [InlineData(401, FailureKind.Box)]
    [InlineData(403, FailureKind.Box)]
    [InlineData(500, FailureKind.Box)]
    [InlineData(400, FailureKind.Request)]
    [InlineData(404, FailureKind.Request)]
    [InlineData(422, FailureKind.Request)]
    [InlineData(200, FailureKind.Unknown)]
    public void OfStatus_SaysWhoseFaultAStatusIs(int status, FailureKind kind) => Assert.Equal(kind, Failures.OfStatus(status));

    [Fact]
    public void Classify_WebUiBoxesException_IsInputWhenOnlyARunsInputIsMissing()
    {
        var lora = new WebUiBoxesException("inpaint", new Dictionary<string, IReadOnlyList<BoxProblem>> { ["box0"] = [new("--lora", "missing", IsInput: true)] });
        var model = new WebUiBoxesException("inpaint", new Dictionary<string, IReadOnlyList<BoxProblem>> { ["box0"] = [new("base_model", "missing")] });

        Assert.Equal(FailureKind.Input, Failures.Classify(lora));
        Assert.Equal(FailureKind.Unsupported, Failures.Classify(model));
        Assert.Equal(FailureKind.Cancelled, Failures.Classify(new OperationCanceledException()));
        Assert.Equal(FailureKind.Unknown, Failures.Classify(new InvalidOperationException()));
    }
}
