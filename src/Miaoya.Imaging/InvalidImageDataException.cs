namespace Miaoya.Imaging;

/// <summary>Image data that is not valid base64, not a known format, or does not decode.</summary>
public sealed class InvalidImageDataException : Exception
{
    public InvalidImageDataException()
    {
    }

    public InvalidImageDataException(string message)
        : base(message)
    {
    }

    public InvalidImageDataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
