using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Faces;

/// <summary>
/// Separable triangle-filter resampling of an image region straight into a float tensor, the filter ImageSharp's
/// <c>KnownResamplers.Triangle</c> applies: output sample i is centred on source coordinate (i + ½)·ratio − ½, and when
/// shrinking the kernel is widened by the ratio so every source pixel contributes (area-like antialiasing). Going
/// through <c>Image.Clone(Resize)</c> instead cost a new image, a kernel map and a parallel dispatch per pass, about
/// 1.5 ms for BlazeFace's two small letterboxes of a candidate portrait (bench <c>likeness</c>); this writes the
/// normalised values in two passes with no image in between.
/// </summary>
internal static class TriangleResampler
{
    /// <summary>
    /// Resamples <paramref name="region"/> of <paramref name="image"/> to <paramref name="width"/>×<paramref name="height"/>
    /// and writes it as NHWC RGB into <paramref name="tensor"/> (a square of side <paramref name="stride"/>) at
    /// (<paramref name="left"/>, <paramref name="top"/>), each channel as <c>p · scale + offset</c>.
    /// </summary>
    public static void Fill(
        Image<Rgb24> image, Rectangle region, int width, int height, float[] tensor, int stride, int left, int top, float scale, float offset)
    {
        var columns = Kernel.For(region.Width, width);
        var rows = Kernel.For(region.Height, height);
        var rowLength = width * 3;
        var horizontal = ArrayPool<float>.Shared.Rent(region.Height * rowLength);
        var sourceRow = ArrayPool<float>.Shared.Rent(region.Width * 3);
        try
        {
            image.ProcessPixelRows(accessor =>
            {
                for (var y = 0; y < region.Height; y++)
                {
                    // The row as floats once, then each output pixel as a weighted sum of RGB triples (Vector3 arithmetic).
                    var bytes = MemoryMarshal.AsBytes(accessor.GetRowSpan(region.Y + y).Slice(region.X, region.Width));
                    var floats = sourceRow.AsSpan(0, bytes.Length);
                    for (var i = 0; i < bytes.Length; i++)
                    {
                        floats[i] = bytes[i];
                    }

                    // Taps read through refs: the kernel keeps every index inside the row, so the bounds checks are moot.
                    ref var pixels = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<float, Vector3>(floats));
                    ref var into = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<float, Vector3>(horizontal.AsSpan(y * rowLength, rowLength)));
                    for (var x = 0; x < width; x++)
                    {
                        ref var tap = ref Unsafe.Add(ref pixels, columns.First(x));
                        var weights = columns.Weights(x);
                        var sum = Vector3.Zero;
                        for (var k = 0; k < weights.Length; k++)
                        {
                            sum += Unsafe.Add(ref tap, k) * weights[k];
                        }

                        Unsafe.Add(ref into, x) = sum;
                    }
                }
            });

            for (var y = 0; y < height; y++)
            {
                var first = rows.First(y);
                var weights = rows.Weights(y);
                var into = tensor.AsSpan((((top + y) * stride) + left) * 3, rowLength);
                into.Clear();
                for (var k = 0; k < weights.Length; k++)
                {
                    MultiplyAdd(horizontal.AsSpan((first + k) * rowLength, rowLength), weights[k], into);
                }

                for (var i = 0; i < rowLength; i++)
                {
                    into[i] = (into[i] * scale) + offset;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(sourceRow);
            ArrayPool<float>.Shared.Return(horizontal);
        }
    }

    /// <summary><c>into[i] += from[i] · weight</c>, a vector at a time.</summary>
    private static void MultiplyAdd(ReadOnlySpan<float> from, float weight, Span<float> into)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && from.Length >= Vector<float>.Count)
        {
            var w = new Vector<float>(weight);
            var fromVectors = MemoryMarshal.Cast<float, Vector<float>>(from);
            var intoVectors = MemoryMarshal.Cast<float, Vector<float>>(into);
            for (var v = 0; v < fromVectors.Length; v++)
            {
                intoVectors[v] += fromVectors[v] * w;
            }

            i = fromVectors.Length * Vector<float>.Count;
        }

        for (; i < from.Length; i++)
        {
            into[i] += from[i] * weight;
        }
    }

    /// <summary>The taps of every output sample along one axis: first source index and normalised weights.</summary>
    internal sealed class Kernel
    {
        private readonly int[] _first;
        private readonly int[] _count;
        private readonly float[] _weights;
        private readonly int _width;

        private Kernel(int[] first, int[] count, float[] weights, int width)
        {
            _first = first;
            _count = count;
            _weights = weights;
            _width = width;
        }

        public static Kernel For(int sourceSize, int destinationSize)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceSize);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(destinationSize);
            var ratio = (double)sourceSize / destinationSize;
            var spread = Math.Max(1.0, ratio);

            // The triangle's radius is 1 source pixel, or `ratio` pixels when shrinking.
            var radius = spread;
            var width = (int)Math.Ceiling(radius) * 2 + 1;
            var first = new int[destinationSize];
            var count = new int[destinationSize];
            var weights = new float[destinationSize * width];
            for (var i = 0; i < destinationSize; i++)
            {
                var centre = ((i + 0.5) * ratio) - 0.5;
                var left = Math.Max(0, (int)Math.Ceiling(centre - radius));
                var right = Math.Min(sourceSize - 1, (int)Math.Floor(centre + radius));
                var sum = 0.0;
                var n = 0;
                for (var j = left; j <= right && n < width; j++, n++)
                {
                    var w = Math.Max(0.0, 1.0 - (Math.Abs(j - centre) / spread));
                    weights[(i * width) + n] = (float)w;
                    sum += w;
                }

                if (sum <= 0)
                {
                    // A sample centred exactly between far pixels cannot happen with radius ≥ 1, but keep it defined.
                    left = Math.Clamp((int)Math.Round(centre), 0, sourceSize - 1);
                    weights[i * width] = 1f;
                    n = 1;
                    sum = 1;
                }

                for (var k = 0; k < n; k++)
                {
                    weights[(i * width) + k] = (float)(weights[(i * width) + k] / sum);
                }

                first[i] = left;
                count[i] = n;
            }

            return new Kernel(first, count, weights, width);
        }

        public int First(int i) => _first[i];

        public ReadOnlySpan<float> Weights(int i) => _weights.AsSpan(i * _width, _count[i]);
    }
}
