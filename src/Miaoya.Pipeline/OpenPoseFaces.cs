using Miaoya.Faces;
using Miaoya.WebUi.ControlNet;
using SixLabors.ImageSharp;

namespace Miaoya.Pipeline;

/// <summary>Faces from the WebUI's openpose keypoints, in template pixels, shaped like detector faces.</summary>
internal static class OpenPoseFaces
{
    public static IReadOnlyList<DetectedFace> From(ControlNetDetectResponse detect, int width, int height, int processorRes)
    {
        var faces = new List<DetectedFace>();
        foreach (var pose in detect.Poses ?? [])
        {
            foreach (var person in pose.People)
            {
                var flat = person.FaceKeypoints2d;
                if (flat is null)
                {
                    continue;
                }

                // Keep indices (68-point layout: 36-41 right eye, 42-47 left eye, 30 nose tip, 48-67 mouth, 0/16 jaw ends).
                var points = new PointF?[flat.Count / 3];
                for (var i = 0; i < points.Length; i++)
                {
                    if (flat[(3 * i) + 2] > 0)
                    {
                        var (x, y) = pose.ToSourcePixels(flat[3 * i], flat[(3 * i) + 1], width, height, processorRes);
                        points[i] = new PointF((float)x, (float)y);
                    }
                }

                var present = points.Where(p => p is not null).Select(p => p!.Value).ToList();
                if (present.Count < 5)
                {
                    continue;
                }

                var left = present.Min(p => p.X);
                var top = present.Min(p => p.Y);
                var box = new RectangleF(left, top, present.Max(p => p.X) - left, present.Max(p => p.Y) - top);
                var landmarks = points.Length >= 68
                    ? new[] { Mean(points, 36, 42, box, 0.3f, 0.35f), Mean(points, 42, 48, box, 0.7f, 0.35f), points[30] ?? At(box, 0.5f, 0.55f), Mean(points, 48, 68, box, 0.5f, 0.78f), points[0] ?? At(box, 0f, 0.4f), points[16] ?? At(box, 1f, 0.4f) }
                    : [At(box, 0.3f, 0.35f), At(box, 0.7f, 0.35f), At(box, 0.5f, 0.55f), At(box, 0.5f, 0.78f), At(box, 0f, 0.4f), At(box, 1f, 0.4f)];
                faces.Add(new DetectedFace(box, landmarks, 1f));
            }
        }

        return faces.OrderByDescending(f => f.Size).ToArray();
    }

    /// <summary>The mean of the present points in [from, to), or a point at a typical place in the box when none is present.</summary>
    private static PointF Mean(PointF?[] points, int from, int to, RectangleF box, float fx, float fy)
    {
        var set = points[from..to].Where(p => p is not null).Select(p => p!.Value).ToList();
        return set.Count == 0 ? At(box, fx, fy) : new PointF(set.Average(p => p.X), set.Average(p => p.Y));
    }

    /// <summary>The six detector landmarks (eyes, nose, mouth, ears) at typical places in a face box, when keypoints lack them.</summary>
    private static PointF At(RectangleF box, float fx, float fy) => new(box.X + (box.Width * fx), box.Y + (box.Height * fy));
}
