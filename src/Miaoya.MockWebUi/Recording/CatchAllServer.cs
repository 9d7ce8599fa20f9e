using System.Globalization;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace Miaoya.MockWebUi.Recording;

/// <summary>A WireMock server with no admin API and no request log that hands every request to one callback (the recorder's and the replayer's).</summary>
internal static class CatchAllServer
{
    public static WireMockServer Start(int port, bool listenOnAllInterfaces, Func<IRequestMessage, Task<IResponseMessage>> respond)
    {
        var host = listenOnAllInterfaces ? "0.0.0.0" : "127.0.0.1";
        var server = WireMockServer.Start(new WireMockServerSettings
        {
            Urls = [string.Create(CultureInfo.InvariantCulture, $"http://{host}:{port}")],
            StartAdminInterface = false,
            DisableJsonBodyParsing = true,
            DoNotSaveDynamicResponseInLogEntry = true,
            MaxRequestLogCount = 0,
        });
        server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithCallback(respond));
        return server;
    }

    /// <summary>The server's loopback URL, whichever interface it listens on.</summary>
    public static Uri LoopbackUrl(WireMockServer server) => new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{server.Ports[0]}/"));
}
