using Miaoya.MockWebUi;

namespace Miaoya.WebUi.Tests;

/// <summary>One mock per profile, shared by the contract tests of a class (tests that change server state start their own).</summary>
public sealed class MockServers : IDisposable
{
    public MockWebUiServer WebUi110 { get; } = MockWebUiServer.Start(new MockWebUiOptions { Profile = MockWebUiProfile.WebUi110 });

    public MockWebUiServer WebUi18 { get; } = MockWebUiServer.Start(new MockWebUiOptions { Profile = MockWebUiProfile.WebUi18 });

    public MockWebUiServer this[string profile] => profile == "webui-1.8" ? WebUi18 : WebUi110;

    public void Dispose()
    {
        WebUi110.Dispose();
        WebUi18.Dispose();
    }
}
