using System.Text.Json.Serialization;

namespace Miaoya.Doctor;

/// <summary>The verdict of one row.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DoctorStatus>))]
public enum DoctorStatus
{
    /// <summary>✔ present and as expected.</summary>
    Ok,

    /// <summary>! works, but worth a look (other version, a risky setting, not checked).</summary>
    Warning,

    /// <summary>✘ something a recipe needs is missing or unusable.</summary>
    Missing,
}

/// <summary>One row of a box's table.</summary>
/// <param name="Check">What was checked, e.g. "ControlNet model control_v11p_sd15_softedge".</param>
/// <param name="Status">Verdict.</param>
/// <param name="Detail">What was found.</param>
/// <param name="Fix">How to fix it (which file goes in which folder, where it comes from, its licence); null when nothing to do.</param>
/// <param name="Recipes">The recipes that need it; empty for box-wide checks.</param>
public sealed record DoctorRow(string Check, DoctorStatus Status, string Detail, string? Fix = null, IReadOnlyList<string>? Recipes = null)
{
    /// <summary>The recipes that need it.</summary>
    public IReadOnlyList<string> Recipes { get; init; } = Recipes ?? [];
}

/// <summary>One box's table.</summary>
/// <param name="Url">The box.</param>
/// <param name="Version">The WebUI version the probe implies; null when the box did not answer.</param>
/// <param name="Rows">Every check, in order.</param>
public sealed record BoxReport(Uri Url, string? Version, IReadOnlyList<DoctorRow> Rows)
{
    /// <summary>True when nothing a recipe needs is missing.</summary>
    public bool Ok => Rows.All(r => r.Status != DoctorStatus.Missing);
}

/// <summary>All boxes.</summary>
/// <param name="Recipes">The recipes checked.</param>
/// <param name="Boxes">One report per box, in the order given.</param>
public sealed record DoctorReport(IReadOnlyList<string> Recipes, IReadOnlyList<BoxReport> Boxes)
{
    /// <summary>True when every box has everything.</summary>
    public bool Ok => Boxes.All(b => b.Ok);
}
