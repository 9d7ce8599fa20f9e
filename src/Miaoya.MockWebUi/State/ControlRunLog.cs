namespace Miaoya.MockWebUi;

/// <summary>
/// The control mode each ControlNet unit of the last rendered generation ran as, which no response shows: on Forge an int
/// control_mode is written to the infotext as given yet weighs as Balanced (see <see cref="ForgeUnits"/>). Tests read it
/// through <see cref="MockWebUiServer.LastControlModes"/>.
/// </summary>
internal sealed class ControlRunLog
{
    private readonly Lock _gate = new();
    private IReadOnlyList<string> _last = [];

    public IReadOnlyList<string> Last
    {
        get
        {
            lock (_gate)
            {
                return _last;
            }
        }
    }

    public void Record(IEnumerable<string> modes)
    {
        var list = modes.ToArray();
        lock (_gate)
        {
            _last = list;
        }
    }
}
