using System.Globalization;

namespace Miaoya.FaceSwap;

/// <summary>Where ONNX Runtime runs a model: the CPU, or a CUDA device by id (<c>--device cpu|cuda[:N]</c>).</summary>
public readonly record struct ExecutionDevice(bool IsCuda, int DeviceId)
{
    /// <summary>The CPU.</summary>
    public static ExecutionDevice Cpu => default;

    /// <summary>CUDA device <paramref name="id"/>.</summary>
    public static ExecutionDevice Cuda(int id = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        return new ExecutionDevice(true, id);
    }

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (case-insensitive).</summary>
    public static ExecutionDevice Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Equals("cpu", StringComparison.OrdinalIgnoreCase))
        {
            return Cpu;
        }

        if (t.Equals("cuda", StringComparison.OrdinalIgnoreCase))
        {
            return Cuda(0);
        }

        if (t.StartsWith("cuda:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(t.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return Cuda(id);
        }

        throw new FormatException($"--device '{text}': expected cpu, cuda or cuda:N.");
    }

    /// <inheritdoc />
    public override string ToString() => IsCuda ? string.Create(CultureInfo.InvariantCulture, $"cuda:{DeviceId}") : "cpu";
}
