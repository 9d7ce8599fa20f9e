using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Miaoya.WebUi.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void BrokenOptions_ReportEveryProblemAtOnce()
    {
        var services = new ServiceCollection();
        services.AddWebUiClient(o =>
        {
            o.BaseUrl = new Uri("ftp://box/");
            o.Username = "ann:x";
            o.ControlRetries = 50;
            o.ControlAttemptTimeout = TimeSpan.FromMinutes(1);
            o.BreakerSamplingDuration = TimeSpan.FromSeconds(30);
        });
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<WebUiOptions>>().Value);

        Assert.Equal(
            [
                "WebUi:ControlRetries: The field ControlRetries must be between 0 and 10.",
                "WebUi:BaseUrl: 'ftp://box/' must be an absolute http:// or https:// URL.",
                "WebUi:Username/Password: give both for --api-auth, or neither.",
                "WebUi:Username: must not contain ':' (basic auth separates user and password with it).",
                "WebUi:BreakerSamplingDuration: 00:00:30 must be at least twice ControlAttemptTimeout (00:01:00), or a slow box is never sampled.",
            ],
            error.Failures);
    }

    [Fact]
    public void Endpoint_ToString_NeverShowsThePassword()
    {
        var endpoint = WebUiEndpoint.WithAuth(new Uri("http://box:7860"), "ann:s3cret");

        Assert.Equal("http://box:7860/ (user ann)", endpoint.ToString());
        Assert.DoesNotContain("s3cret", endpoint.ToString(), StringComparison.Ordinal);
    }
}
