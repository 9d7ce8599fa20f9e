using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Miaoya.WebUi.Tests;

/// <summary>
/// A loopback server that counts every request by path and decides per path what to do: answer, hang (a box still
/// rendering), or close the socket (a crashed box). WireMock only logs requests once answered, so it cannot count
/// requests a client gave up on.
/// </summary>
internal sealed class RawHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<string, string?> _behaviour;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, int> _counts = [];

    /// <param name="behaviour">Path → raw JSON body to answer 200 with, "hang", or "close".</param>
    public RawHttpServer(Func<string, string?> behaviour)
    {
        _behaviour = behaviour;
        _listener.Start();
        _ = Task.Run(AcceptLoopAsync);
    }

    public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    public int Count(string path)
    {
        lock (_counts)
        {
            return _counts.GetValueOrDefault(path);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[1 << 16];
            var received = await socket.ReceiveAsync(buffer);
            var head = Encoding.ASCII.GetString(buffer, 0, received);
            var path = head.Split(' ', 3) is [_, var target, _] ? target.Split('?')[0] : "";
            lock (_counts)
            {
                _counts[path] = _counts.GetValueOrDefault(path) + 1;
            }

            switch (_behaviour(path))
            {
                case "close" or null:
                    return;
                case "hang":
                    try
                    {
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    return;
                case var body:
                    var bytes = Encoding.UTF8.GetBytes(body);
                    var header = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
                    await socket.SendAsync(Encoding.ASCII.GetBytes(header));
                    await socket.SendAsync(bytes);
                    return;
            }
        }
    }
}
