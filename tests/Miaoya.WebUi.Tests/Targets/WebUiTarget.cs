using Miaoya.MockWebUi;
using Miaoya.MockWebUi.Recording;

namespace Miaoya.WebUi.Tests.Targets;

/// <summary>
/// What the client contract (<see cref="WebUiContract"/>) runs against: a mock profile, a recording served back, a live box
/// (<c>MIAOYA_TEST_WEBUI</c>), or the mock behind the recorder (<c>MIAOYA_TEST_RECORD</c>, to remake the committed recording).
/// One per test class, as its class fixture.
/// </summary>
public abstract class WebUiTarget : IDisposable
{
    /// <summary>The live box's base URL, e.g. http://gpu-box:7860 (unset: the live contract is skipped).</summary>
    public const string LiveVariable = "MIAOYA_TEST_WEBUI";

    /// <summary>The live box's credentials, <c>user:password</c> (optional).</summary>
    public const string LiveAuthVariable = "MIAOYA_TEST_WEBUI_AUTH";

    /// <summary>A folder to record the contract run against the webui-1.10 mock into (unset: that run is skipped).</summary>
    public const string RecordVariable = "MIAOYA_TEST_RECORD";

    /// <summary>The committed recording of the contract against the webui-1.10 mock, as copied next to the tests.</summary>
    public static string CommittedRecording => Path.Combine(AppContext.BaseDirectory, "Recordings", "mock-webui-1.10");

    public abstract Uri Url { get; }

    public virtual string? Auth => null;

    /// <summary>The backend the probe must find, where the target is known (a mock profile, a recording of one); null for a live box.</summary>
    public virtual WebUiBackend? ExpectedBackend => null;

    /// <summary>
    /// One client for the class's tests, as the product keeps one per box: it probes once, so a recording of a run holds one
    /// probe rather than one per test.
    /// </summary>
    internal TestClient Client => LazyInitializer.EnsureInitialized(ref _client, () => new TestClient(Url, o => o.GenerationTimeout = TimeSpan.FromMinutes(5), auth: Auth));

    private TestClient? _client;

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) => _client?.Dispose();

    internal static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value.Trim() : null;
}

/// <summary>A mock profile, started for the class.</summary>
public abstract class MockProfileTarget(MockWebUiProfile profile, WebUiBackend backend) : WebUiTarget
{
    private readonly MockWebUiServer _server = MockWebUiServer.Start(new MockWebUiOptions { Profile = profile });

    public override Uri Url => _server.Url;

    public override WebUiBackend? ExpectedBackend => backend;

    protected override void Dispose(bool disposing)
    {
        _server.Dispose();
        base.Dispose(disposing);
    }
}

public sealed class MockWebUi110Target() : MockProfileTarget(MockWebUiProfile.WebUi110, WebUiBackend.A1111);

public sealed class MockWebUi18Target() : MockProfileTarget(MockWebUiProfile.WebUi18, WebUiBackend.A1111);

public sealed class MockForgeTarget() : MockProfileTarget(MockWebUiProfile.Forge, WebUiBackend.Forge);

public sealed class MockReForgeTarget() : MockProfileTarget(MockWebUiProfile.ReForge, WebUiBackend.ReForge);

public sealed class MockSdNextTarget() : MockProfileTarget(MockWebUiProfile.SdNext, WebUiBackend.SdNext);

/// <summary>The committed recording (Recordings/mock-webui-1.10) served back by <see cref="ReplayServer"/>.</summary>
public sealed class ReplayedRecordingTarget : WebUiTarget
{
    private readonly ReplayServer _server = ReplayServer.Start(CommittedRecording);

    public override Uri Url => _server.Url;

    public override WebUiBackend? ExpectedBackend => WebUiBackend.A1111;

    protected override void Dispose(bool disposing)
    {
        _server.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>The box at <c>MIAOYA_TEST_WEBUI</c>, with <c>MIAOYA_TEST_WEBUI_AUTH</c>.</summary>
public sealed class LiveTarget : WebUiTarget
{
    public static string? SkipReason => Variable(LiveVariable) is null
        ? $"Live WebUI contract skipped: set {LiveVariable}=http://host:7860 (and {LiveAuthVariable}=user:pass if the box has --api-auth) to run the client contract against your own box."
        : null;

    public override Uri Url => Variable(LiveVariable) is { } url
        ? new Uri(url.EndsWith('/') ? url : url + "/")
        : throw new InvalidOperationException($"{LiveVariable} is not set.");

    public override string? Auth => Variable(LiveAuthVariable);
}

/// <summary>
/// The webui-1.10 mock behind a <see cref="RecordingProxy"/> writing to <c>MIAOYA_TEST_RECORD</c> (its mappings/ and images/
/// are replaced): how Recordings/mock-webui-1.10 is made.
/// </summary>
public sealed class RecordingMockTarget : WebUiTarget
{
    private readonly MockWebUiServer? _server;
    private readonly RecordingProxy? _proxy;

    public RecordingMockTarget()
    {
        if (Variable(RecordVariable) is not { } directory)
        {
            return;
        }

        foreach (var part in new[] { "mappings", "images" })
        {
            if (Directory.Exists(Path.Combine(directory, part)))
            {
                Directory.Delete(Path.Combine(directory, part), recursive: true);
            }
        }

        _server = MockWebUiServer.Start(new MockWebUiOptions { Profile = MockWebUiProfile.WebUi110 });
        _proxy = RecordingProxy.Start(new RecordingProxyOptions { Upstream = _server.Url, Directory = directory });
    }

    public static string? SkipReason => Variable(RecordVariable) is null
        ? $"Recording skipped: set {RecordVariable}=DIR to record the contract against the webui-1.10 mock (e.g. into tests/Miaoya.WebUi.Tests/Recordings/mock-webui-1.10)."
        : null;

    public override Uri Url => _proxy?.Url ?? throw new InvalidOperationException($"{RecordVariable} is not set.");

    protected override void Dispose(bool disposing)
    {
        _proxy?.Dispose();
        _server?.Dispose();
        base.Dispose(disposing);
    }
}
