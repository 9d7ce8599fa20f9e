namespace Miaoya.Recipes.Parsing;

/// <summary>The YAML words of each recipe enum, in declaration order.</summary>
internal static class EnumWords
{
    private static readonly Dictionary<Type, (string Word, object Value)[]> Words = new()
    {
        [typeof(PipelineKind)] = [("v1", PipelineKind.V1), ("v2", PipelineKind.V2), ("v3", PipelineKind.V3)],
        [typeof(FaceSwapDetector)] = [("scrfd", FaceSwapDetector.Scrfd), ("blazeface", FaceSwapDetector.BlazeFace)],
        [typeof(MaskKind)] = [("face", MaskKind.Face), ("face_neck", MaskKind.FaceNeck)],
        [typeof(MaskSource)] = [("detector", MaskSource.Detector), ("openpose", MaskSource.Openpose), ("file", MaskSource.File)],
        [typeof(InpaintingFillKind)] =
        [
            ("fill", InpaintingFillKind.Fill), ("original", InpaintingFillKind.Original),
            ("latent_noise", InpaintingFillKind.LatentNoise), ("latent_nothing", InpaintingFillKind.LatentNothing),
        ],
        [typeof(InpaintArea)] = [("whole_picture", InpaintArea.WholePicture), ("only_masked", InpaintArea.OnlyMasked)],
        [typeof(ControlModeKind)] = [("balanced", ControlModeKind.Balanced), ("prompt", ControlModeKind.Prompt), ("controlnet", ControlModeKind.ControlNet)],
        [typeof(ResizeModeKind)] =
        [
            ("just_resize", ResizeModeKind.JustResize), ("crop_and_resize", ResizeModeKind.CropAndResize),
            ("resize_and_fill", ResizeModeKind.ResizeAndFill),
        ],
        [typeof(UnitImageSource)] = [("template", UnitImageSource.Template), ("previous", UnitImageSource.Previous)],
        [typeof(FinishSheet)] = [("none", FinishSheet.None), ("6inch", FinishSheet.SixInch), ("a4", FinishSheet.A4)],
        [typeof(FinishFormat)] = [("jpeg", FinishFormat.Jpeg), ("png", FinishFormat.Png)],
        [typeof(ModelFamily)] = [("sd15", ModelFamily.Sd15), ("sdxl", ModelFamily.Sdxl)],
        [typeof(IdentityMethod)] =
        [
            ("faceid", IdentityMethod.FaceId), ("faceid_plus", IdentityMethod.FaceIdPlus), ("faceid_portrait", IdentityMethod.FaceIdPortrait),
            ("instantid", IdentityMethod.InstantId), ("pulid", IdentityMethod.PuLid),
        ],
        [typeof(PulidMode)] = [("fidelity", PulidMode.Fidelity), ("extremely_style", PulidMode.ExtremelyStyle)],
        [typeof(FaceRestorerKind)] = [("codeformer", FaceRestorerKind.CodeFormer), ("gfpgan", FaceRestorerKind.Gfpgan)],
        [typeof(ScorerChoice)] = [("sface", ScorerChoice.SFace), ("arcface", ScorerChoice.ArcFace)],
    };

    public static IReadOnlyList<string> All<T>()
        where T : struct, Enum => Words[typeof(T)].Select(w => w.Word).ToArray();

    public static bool TryParse<T>(string word, out T value)
        where T : struct, Enum
    {
        foreach (var (w, v) in Words[typeof(T)])
        {
            if (string.Equals(w, word, StringComparison.Ordinal))
            {
                value = (T)v;
                return true;
            }
        }

        value = default;
        return false;
    }

    public static string Of<T>(T value)
        where T : struct, Enum => Words[typeof(T)].First(w => ((T)w.Value).Equals(value)).Word;
}
