namespace Miaoya.Likeness;

/// <summary>A reference photo cannot be used: no face, or more than one. The message names the photo and is meant for the user.</summary>
public sealed class LikenessInputException : Exception
{
    public LikenessInputException()
    {
        Photo = "";
    }

    public LikenessInputException(string message)
        : base(message)
    {
        Photo = "";
    }

    public LikenessInputException(string message, Exception innerException)
        : base(message, innerException)
    {
        Photo = "";
    }

    /// <summary>A photo's problem: the message is "<paramref name="photo"/>: <paramref name="problem"/>".</summary>
    public LikenessInputException(string photo, string problem, Exception? innerException)
        : base($"{photo}: {problem}", innerException)
    {
        Photo = photo;
    }

    /// <summary>The photo's name (<see cref="PersonPhoto.Name"/>).</summary>
    public string Photo { get; }
}
