namespace Miaoya.Likeness;

/// <summary>Embedding maths, in double: L2 normalisation, cosine, the normalised mean (centroid).</summary>
internal static class Embeddings
{
    /// <summary>v / ‖v‖₂. Throws <see cref="InvalidDataException"/> naming <paramref name="model"/> for a zero or non-finite vector.</summary>
    public static float[] Normalize(ReadOnlySpan<float> v, string model)
    {
        double sum = 0;
        foreach (var x in v)
        {
            sum += (double)x * x;
        }

        var norm = Math.Sqrt(sum);
        if (!(norm > 0) || !double.IsFinite(norm))
        {
            throw new InvalidDataException($"{model} gave an embedding of norm {norm}; it cannot be compared.");
        }

        var result = new float[v.Length];
        for (var i = 0; i < v.Length; i++)
        {
            result[i] = (float)(v[i] / norm);
        }

        return result;
    }

    /// <summary>Cosine similarity of two vectors (normalised or not); 0 when either is zero.</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => FaceSwap.FaceEmbeddings.Cosine(a, b);

    /// <summary>
    /// The normalised mean of <paramref name="vectors"/> leaving out index <paramref name="skip"/> (−1: none) — EasyPhoto's
    /// "mean embedding of all uploads" (identity-units.md §6.1). A zero mean (opposite vectors) stays zero, so every
    /// cosine to it is 0.
    /// </summary>
    public static float[] Centroid(IReadOnlyList<float[]> vectors, int skip = -1)
    {
        var length = vectors[0].Length;
        var sum = new double[length];
        foreach (var (v, i) in vectors.Select((v, i) => (v, i)))
        {
            if (i == skip)
            {
                continue;
            }

            for (var k = 0; k < length; k++)
            {
                sum[k] += v[k];
            }
        }

        var norm = Math.Sqrt(sum.Sum(x => x * x));
        var result = new float[length];
        if (norm > 0)
        {
            for (var k = 0; k < length; k++)
            {
                result[k] = (float)(sum[k] / norm);
            }
        }

        return result;
    }
}
