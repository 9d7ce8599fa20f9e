namespace Miaoya.FaceSwap;

/// <summary>Maths on face embeddings shared by training's picks and likeness scoring.</summary>
public static class FaceEmbeddings
{
    /// <summary>Cosine similarity of two vectors, in double (normalised or not); 0 when either is zero.</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"embeddings of different lengths ({a.Length} and {b.Length}).", nameof(b));
        }

        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return na > 0 && nb > 0 ? dot / Math.Sqrt(na * nb) : 0;
    }
}
