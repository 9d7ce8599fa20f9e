using Xunit.Abstractions;

namespace Miaoya.WebUi.Tests.Targets;

/// <summary>The contract against the webui-1.10 mock.</summary>
public sealed class MockWebUi110Contract(MockWebUi110Target target, ITestOutputHelper output) : WebUiContract(target, output), IClassFixture<MockWebUi110Target>;

/// <summary>The contract against the webui-1.8 mock.</summary>
public sealed class MockWebUi18Contract(MockWebUi18Target target, ITestOutputHelper output) : WebUiContract(target, output), IClassFixture<MockWebUi18Target>;

/// <summary>The contract against the forge mock (Forge's built-in ControlNet).</summary>
public sealed class MockForgeContract(MockForgeTarget target, ITestOutputHelper output) : WebUiContract(target, output), IClassFixture<MockForgeTarget>;

/// <summary>The contract against the reforge mock.</summary>
public sealed class MockReForgeContract(MockReForgeTarget target, ITestOutputHelper output) : WebUiContract(target, output), IClassFixture<MockReForgeTarget>;

/// <summary>The contract against the sdnext mock (no ControlNet API: that part is noted, not asserted).</summary>
public sealed class MockSdNextContract(MockSdNextTarget target, ITestOutputHelper output) : WebUiContract(target, output), IClassFixture<MockSdNextTarget>;

/// <summary>The contract against the committed recording of the webui-1.10 mock, served back: the recorder round-trips.</summary>
public sealed class ReplayedMockContract(ReplayedRecordingTarget target, ITestOutputHelper output) : WebUiContract(target, output), IClassFixture<ReplayedRecordingTarget>;

/// <summary>The contract against your own box: <c>MIAOYA_TEST_WEBUI=http://host:7860</c> (skipped when unset).</summary>
public sealed class LiveWebUiContract(LiveTarget target, ITestOutputHelper output) : WebUiContract(target, output), IClassFixture<LiveTarget>;

/// <summary>
/// Remakes the committed recording (skipped unless <c>MIAOYA_TEST_RECORD</c> is set):
/// <c>MIAOYA_TEST_RECORD=$PWD/tests/Miaoya.WebUi.Tests/Recordings/mock-webui-1.10 dotnet test tests/Miaoya.WebUi.Tests --filter FullyQualifiedName~RecordMockContract</c>.
/// </summary>
public sealed class RecordMockContract(RecordingMockTarget target, ITestOutputHelper output) : WebUiContract(target, output), IClassFixture<RecordingMockTarget>;
