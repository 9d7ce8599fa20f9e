using Xunit.Abstractions;
using Xunit.Sdk;

namespace Miaoya.WebUi.Tests.Targets;

/// <summary>
/// A fact of the client contract. It runs for every target; the live class is skipped with the reason when
/// <c>MIAOYA_TEST_WEBUI</c> is unset, and the recording class when <c>MIAOYA_TEST_RECORD</c> is unset.
/// </summary>
[XunitTestCaseDiscoverer("Miaoya.WebUi.Tests.Targets.TargetFactDiscoverer", "Miaoya.WebUi.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class TargetFactAttribute : FactAttribute;

public sealed class TargetFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        yield return new TargetTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod);
    }
}

public sealed class TargetTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public TargetTestCase()
    {
    }

    public TargetTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod testMethod)
        : base(sink, display, options, testMethod)
    {
    }

    protected override string? GetSkipReason(IAttributeInfo factAttribute) => TestMethod.TestClass.Class.Name switch
    {
        var name when name.EndsWith(nameof(LiveWebUiContract), StringComparison.Ordinal) => LiveTarget.SkipReason,
        var name when name.EndsWith(nameof(RecordMockContract), StringComparison.Ordinal) => RecordingMockTarget.SkipReason,
        _ => null,
    };
}
