namespace Miaoya.MockWebUi;

/// <summary>
/// What the box printed to its console that no response shows: errors A1111 reports and carries on after, such as an exception
/// in ControlNet's <c>process</c> callback (<see cref="ControlNetScriptException"/>). Keeps the last <see cref="Capacity"/>.
/// Tests read it through <see cref="MockWebUiServer.ConsoleErrors"/> or <c>GET /__mock/console</c>.
/// </summary>
internal sealed class ConsoleLog
{
    private const int Capacity = 200;
    private readonly Lock _gate = new();
    private readonly Queue<string> _errors = new();

    /// <summary>The errors, oldest first.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_gate)
            {
                return [.. _errors];
            }
        }
    }

    public void Add(string text)
    {
        lock (_gate)
        {
            _errors.Enqueue(text);
            while (_errors.Count > Capacity)
            {
                _errors.Dequeue();
            }
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _errors.Clear();
        }
    }
}
