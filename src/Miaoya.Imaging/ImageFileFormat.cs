namespace Miaoya.Imaging;

/// <summary>The container format of an encoded image, recognised from its leading bytes.</summary>
public enum ImageFileFormat
{
    /// <summary>Not one of the formats the WebUI writes.</summary>
    Unknown,

    /// <summary>PNG (the WebUI's default <c>samples_format</c>).</summary>
    Png,

    /// <summary>JPEG (<c>samples_format</c> jpg/jpeg).</summary>
    Jpeg,

    /// <summary>WebP (<c>samples_format</c> webp).</summary>
    WebP,
}
