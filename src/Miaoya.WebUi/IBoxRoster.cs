namespace Miaoya.WebUi;

/// <summary>
/// The boxes behind an <see cref="IWebUiBoxes"/> as job placement sees them: the job engine books a step's slot on one of
/// them across every instance of a store (<see cref="BoxNeeds.Box"/>), from this instance's view and the one the instances
/// share in the database.
/// </summary>
public interface IBoxRoster
{
    /// <summary>Every configured box, now.</summary>
    IReadOnlyList<RosterBox> Boxes();

    /// <summary>Whether and how far a box that has a step's checkpoint loaded is preferred for it.</summary>
    AffinityRules Affinity { get; }
}

/// <summary>Checkpoint affinity when placing: a younger step that needs no model switch may go first, within limits.</summary>
/// <param name="Enabled">Prefer a box whose loaded checkpoint is the step's.</param>
/// <param name="Lookahead">How many waiting steps past the oldest are searched for one that needs no switch.</param>
/// <param name="MaxSkips">How many times a waiting step may be passed over for a younger one; then it goes first.</param>
public sealed record AffinityRules(bool Enabled, int Lookahead, int MaxSkips);

/// <summary>One box as <see cref="IBoxRoster"/> sees it.</summary>
/// <param name="Name">As configured (or its URL's host:port).</param>
/// <param name="Slots">Generation calls it runs at once (its <c>MaxConcurrent</c>), across every instance.</param>
/// <param name="Admitted">Whether it takes calls now (healthy, probed, not quarantined).</param>
/// <param name="Quarantined">Taken out after failures until a health check passes.</param>
/// <param name="Loaded">The checkpoint title it has loaded, as far as this instance knows.</param>
/// <param name="Capabilities">What it has (checkpoints, LoRAs, ControlNet models); null before its first probe.</param>
public sealed record RosterBox(string Name, int Slots, bool Admitted, bool Quarantined, string? Loaded, WebUiCapabilities? Capabilities);
