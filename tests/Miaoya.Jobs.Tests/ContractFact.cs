using Xunit.Abstractions;
using Xunit.Sdk;

namespace Miaoya.Jobs.Tests;

/// <summary>
/// A fact of the shared store contract. It runs for every store; for the PostgreSQL class it is skipped with a message when
/// no test database is configured (<see cref="PostgresTestDatabase.SkipReason"/>), unless MIAOYA_REQUIRE_POSTGRES=1.
/// </summary>
[XunitTestCaseDiscoverer("Miaoya.Jobs.Tests.ContractFactDiscoverer", "Miaoya.Jobs.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class ContractFactAttribute : FactAttribute;

public sealed class ContractFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        yield return new ContractTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod);
    }
}

public sealed class ContractTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public ContractTestCase()
    {
    }

    public ContractTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod testMethod)
        : base(sink, display, options, testMethod)
    {
    }

    protected override string? GetSkipReason(IAttributeInfo factAttribute) =>
        TestMethod.TestClass.Class.Name.Contains("Postgres", StringComparison.Ordinal) ? PostgresTestDatabase.SkipReason : null;
}
