namespace Miaoya.Hosting;

/// <summary>
/// The <c>Templates</c> section of the configuration: <c>Directory</c>, the template library commands and <c>serve</c> use
/// when no <c>--templates DIR</c> is given (else <c>templates/</c> in the working folder, else the copy beside the program).
/// </summary>
public sealed class TemplatesSettings
{
    public const string SectionName = "Templates";

    public string? Directory { get; set; }
}
