using System.Globalization;
using Miaoya.Faces;
using Miaoya.Imaging;

namespace Miaoya.Pipeline;

/// <summary>
/// One person of a several-person run as the steps hand it on: their face on the template (<c>mask</c> or
/// <c>faceswap</c>), their mask (<c>mask</c>), their prompt with only their LoRA (<c>interrogate</c>) and their identity
/// crops (<c>identity</c>). Each generation for this person uses only these, so nothing of one person reaches another's face.
/// </summary>
internal sealed class PersonRun(PersonRequest request)
{
    public PersonRequest Request { get; } = request;

    /// <summary>The face this person takes, from 0, left to right.</summary>
    public int FaceIndex => Request.FaceIndex;

    /// <summary>"face-N": the part of this person's file names in a run folder.</summary>
    public string Tag => string.Create(CultureInfo.InvariantCulture, $"face-{FaceIndex}");

    /// <summary>Their face in template pixels.</summary>
    public DetectedFace? Face { get; set; }

    /// <summary>Their face's mask, white over their face only.</summary>
    public EncodedImage? Mask { get; set; }

    /// <summary>The template's prompt with their LoRA alone.</summary>
    public ComposedPrompt? Prompt { get; set; }

    /// <summary>Their aligned face crops for the identity unit.</summary>
    public IReadOnlyList<EncodedImage>? IdentityImages { get; set; }
}
