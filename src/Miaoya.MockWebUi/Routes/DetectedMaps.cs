using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.MockWebUi;

/// <summary>ControlNet preprocessor output: detected maps (an openpose skeleton from the located face) and openpose's JSON.</summary>
internal static class DetectedMaps
{
    /// <summary>The map <paramref name="module"/> detects in <paramref name="input"/>, at <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static Image<Rgba32> Render(CnModule module, Image<Rgba32> input, int width, int height)
    {
        if (module.Name.Contains("openpose", StringComparison.Ordinal))
        {
            var (body, face) = PoseKeypoints(input);
            float sx = (float)width / input.Width, sy = (float)height / input.Height;
            return Painter.PoseMap(width, height, body.Where(p => p.HasValue).Select(p => (new PointF(p!.Value.X * sx, p.Value.Y * sy), new Rgba32(255, 0, 85, 255)))
                .Concat(face.Select(p => (new PointF(p.X * sx, p.Y * sy), new Rgba32(255, 255, 255, 255)))));
        }

        if (module.Name == IdentityCatalog.InstantIdKeypoints)
        {
            return FaceKeypoints(input, width, height);
        }

        return Painter.DetectedMap(input, module.Tag, width, height);
    }

    /// <summary>
    /// instant_id_face_keypoints' map (processor.py:713-740, draw_kps): on black, the five points (eyes, nose, mouth corners)
    /// as filled circles of radius 10 in red, green, blue, yellow, magenta, joined to the nose by limbs drawn at 60 %.
    /// </summary>
    public static Image<Rgba32> FaceKeypoints(Image<Rgba32> input, int width, int height)
    {
        var box = FaceLocator.Locate(input);
        var face = FaceLocator.FaceLandmarks(box);
        float sx = (float)width / input.Width, sy = (float)height / input.Height;
        PointF S(PointF p) => new(p.X * sx, p.Y * sy);
        PointF[] kps = [S(face[68]), S(face[69]), S(face[30]), S(face[48]), S(face[54])];
        Rgba32[] colours = [new(255, 0, 0, 255), new(0, 255, 0, 255), new(0, 0, 255, 255), new(255, 255, 0, 255), new(255, 0, 255, 255)];
        var image = new Image<Rgba32>(width, height, new Rgba32(0, 0, 0, 255));
        foreach (var limb in new[] { 0, 1, 3, 4 })
        {
            var c = colours[limb];
            Painter.Disc(image, kps[limb], kps[2], 4, new Rgba32((byte)(c.R * 0.6), (byte)(c.G * 0.6), (byte)(c.B * 0.6), 255));
        }

        for (var i = 0; i < kps.Length; i++)
        {
            Painter.Disc(image, kps[i], kps[i], 10, colours[i]);
        }

        return image;
    }

    /// <summary>PuLID's display image: facexlib's 512×512 aligned face in grey on white (pulid.py:72-96), from the located face.</summary>
    public static Image<Rgba32> PulidFace(Image<Rgba32> input)
    {
        var box = FaceLocator.Locate(input);
        var side = Math.Max(box.Width, box.Height) * 1.4f;
        var square = Rectangle.Intersect(
            Rectangle.Round(new RectangleF(box.X + (box.Width / 2) - (side / 2), box.Y + (box.Height / 2) - (side / 2), side, side)),
            new Rectangle(0, 0, input.Width, input.Height));
        var face = input.Clone(x => x.Crop(square).Resize(512, 512));
        face.ProcessPixelRows(acc =>
        {
            for (var y = 0; y < acc.Height; y++)
            {
                var row = acc.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    double u = (x - 256) / 200.0, v = (y - 270) / 240.0;
                    var p = row[x];
                    var l = (byte)(((p.R * 299) + (p.G * 587) + (p.B * 114)) / 1000);
                    row[x] = (u * u) + (v * v) <= 1 ? new Rgba32(l, l, l, 255) : new Rgba32(255, 255, 255, 255);
                }
            }
        });
        return face;
    }

    /// <summary>18 COCO body points (null = not visible) and 70 face points in input pixels.</summary>
    private static (PointF?[] Body, List<PointF> Face) PoseKeypoints(Image<Rgba32> input)
    {
        var box = FaceLocator.Locate(input);
        var face = FaceLocator.FaceLandmarks(box);
        float cx = box.X + (box.Width / 2), fw = box.Width, top = box.Y, bottom = box.Y + box.Height;
        PointF? Inside(float x, float y) => x >= 0 && y >= 0 && x < input.Width && y < input.Height ? new PointF(x, y) : null;
        var body = new PointF?[]
        {
            Inside(cx, top + (box.Height * 0.62f)),          // 0 nose
            Inside(cx, bottom + (fw * 0.45f)),                // 1 neck
            Inside(cx - (fw * 1.1f), bottom + (fw * 0.6f)),   // 2 right shoulder
            Inside(cx - (fw * 1.4f), bottom + (fw * 1.7f)),   // 3 right elbow
            Inside(cx - (fw * 1.3f), bottom + (fw * 2.7f)),   // 4 right wrist
            Inside(cx + (fw * 1.1f), bottom + (fw * 0.6f)),   // 5 left shoulder
            Inside(cx + (fw * 1.4f), bottom + (fw * 1.7f)),   // 6 left elbow
            Inside(cx + (fw * 1.3f), bottom + (fw * 2.7f)),   // 7 left wrist
            Inside(cx - (fw * 0.6f), bottom + (fw * 3.2f)),   // 8 right hip
            null, null,                                        // 9, 10 right knee/ankle
            Inside(cx + (fw * 0.6f), bottom + (fw * 3.2f)),   // 11 left hip
            null, null,                                        // 12, 13 left knee/ankle
            Inside(face[68].X, face[68].Y),                   // 14 right eye
            Inside(face[69].X, face[69].Y),                   // 15 left eye
            Inside(box.X + (fw * 0.05f), face[68].Y),         // 16 right ear
            Inside(box.X + (fw * 0.95f), face[69].Y),         // 17 left ear
        };
        return (body, face);
    }

    /// <summary>encode_poses_as_json shape: flat normalised triplets on the padded canvas (CN annotator/openpose/__init__.py:136-175).</summary>
    public static JsonObject PoseJson(Image<Rgba32> input, double k, int canvasW, int canvasH)
    {
        var (body, face) = PoseKeypoints(input);
        JsonArray Flat(IEnumerable<PointF?> pts)
        {
            var arr = new JsonArray();
            foreach (var p in pts)
            {
                if (p is { } v)
                {
                    arr.Add(Math.Round(v.X * k / canvasW, 6));
                    arr.Add(Math.Round(v.Y * k / canvasH, 6));
                    arr.Add(1.0);
                }
                else
                {
                    arr.Add(0.0);
                    arr.Add(0.0);
                    arr.Add(0.0);
                }
            }

            return arr;
        }

        return new JsonObject
        {
            ["people"] = new JsonArray(new JsonObject
            {
                ["pose_keypoints_2d"] = Flat(body),
                ["face_keypoints_2d"] = Flat(face.Select(p => (PointF?)p)),
                ["hand_left_keypoints_2d"] = null,
                ["hand_right_keypoints_2d"] = null,
            }),
            ["animals"] = new JsonArray(),
            ["canvas_width"] = canvasW,
            ["canvas_height"] = canvasH,
        };
    }
}
