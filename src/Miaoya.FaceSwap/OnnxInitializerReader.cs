using System.Buffers.Binary;

namespace Miaoya.FaceSwap;

/// <summary>One ONNX initializer read from the file (dims, element type, name, float data).</summary>
internal sealed record OnnxInitializer(string Name, long[] Dims, int DataType, float[] Data);

/// <summary>
/// A minimal protobuf walker for ONNX files, enough to read the LAST graph initializer (insightface's
/// <c>graph.initializer[-1]</c>, the inswapper's <c>emap</c>: deepinsight/insightface v0.7
/// python-package/insightface/model_zoo/inswapper.py:18) without a protobuf package and without a second session.
/// Field numbers from onnx/onnx onnx/onnx.proto (lines 490, 576, 667-772): ModelProto 7 = graph; GraphProto
/// 5 = initializer; TensorProto 1 = dims, 2 = data_type, 4 = float_data, 8 = name, 9 = raw_data, 13/14 = external
/// data. Streams the file: only the last initializer's bytes are read into memory.
/// </summary>
internal static class OnnxInitializerReader
{
    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLength = 2;
    private const int WireFixed32 = 5;

    /// <summary>TensorProto.DataType FLOAT.</summary>
    internal const int Float = 1;

    /// <summary>TensorProto.DataType FLOAT16.</summary>
    internal const int Float16 = 10;

    /// <summary>The model's <c>producer_name</c> (field 2 of ModelProto in onnx/onnx onnx/onnx.proto), or null when it has none.</summary>
    public static string? ReadProducerName(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 12);
        var name = Path.GetFileName(path);
        try
        {
            if (FindField(stream, 0, stream.Length, 2, "ModelProto.producer_name", name) is not { } field)
            {
                return null;
            }

            var bytes = new byte[field.End - field.Start];
            stream.Position = field.Start;
            stream.ReadExactly(bytes);
            return System.Text.Encoding.UTF8.GetString(bytes);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{name}: truncated ONNX protobuf.", e);
        }
    }

    public static OnnxInitializer ReadLastInitializer(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return ReadLastInitializer(stream, Path.GetFileName(path));
    }

    public static OnnxInitializer ReadLastInitializer(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            var (graphStart, graphEnd) = FindField(stream, 0, stream.Length, 7, "ModelProto.graph", name)
                ?? throw new InvalidDataException($"{name}: no graph (ModelProto field 7) — not an ONNX model.");
            long lastStart = -1, lastLength = 0;
            stream.Position = graphStart;
            while (stream.Position < graphEnd)
            {
                var (field, wire) = ReadKey(stream, name);
                if (field == 5 && wire == WireLength)
                {
                    lastLength = ReadLength(stream, graphEnd, name);
                    lastStart = stream.Position;
                    stream.Position += lastLength;
                }
                else
                {
                    Skip(stream, wire, graphEnd, name);
                }
            }

            if (lastStart < 0)
            {
                throw new InvalidDataException($"{name}: the graph has no initializers.");
            }

            if (lastLength > int.MaxValue)
            {
                throw new InvalidDataException($"{name}: the last initializer is {lastLength} bytes, too large.");
            }

            var buffer = new byte[lastLength];
            stream.Position = lastStart;
            stream.ReadExactly(buffer);
            return ParseTensor(buffer, name);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{name}: truncated ONNX protobuf.", e);
        }
    }

    internal static OnnxInitializer ParseTensor(byte[] buffer, string file)
    {
        using var s = new MemoryStream(buffer, writable: false);
        var dims = new List<long>();
        var dataType = 0;
        var tensorName = "";
        byte[]? raw = null;
        List<float>? floats = null;
        var external = false;
        while (s.Position < s.Length)
        {
            var (field, wire) = ReadKey(s, file);
            switch (field, wire)
            {
                case (1, WireVarint):
                    dims.Add((long)ReadVarint(s, file));
                    break;
                case (1, WireLength):
                    {
                        var packedLength = ReadLength(s, s.Length, file);
                        var end = s.Position + packedLength;
                        while (s.Position < end)
                        {
                            dims.Add((long)ReadVarint(s, file));
                        }

                        break;
                    }

                case (2, WireVarint):
                    dataType = (int)ReadVarint(s, file);
                    break;
                case (4, WireLength):
                    {
                        var length = ReadLength(s, s.Length, file);
                        if (length % 4 != 0)
                        {
                            throw new InvalidDataException($"{file}: float_data of {length} bytes is not a whole number of floats.");
                        }

                        floats ??= [];
                        var bytes = buffer.AsSpan((int)s.Position, (int)length);
                        for (var i = 0; i < bytes.Length; i += 4)
                        {
                            floats.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes[i..]));
                        }

                        s.Position += length;
                        break;
                    }

                case (4, WireFixed32):
                    {
                        Span<byte> four = stackalloc byte[4];
                        s.ReadExactly(four);
                        (floats ??= []).Add(BinaryPrimitives.ReadSingleLittleEndian(four));
                        break;
                    }

                case (8, WireLength):
                    {
                        var length = ReadLength(s, s.Length, file);
                        tensorName = System.Text.Encoding.UTF8.GetString(buffer, (int)s.Position, (int)length);
                        s.Position += length;
                        break;
                    }

                case (9, WireLength):
                    {
                        var length = ReadLength(s, s.Length, file);
                        raw = buffer.AsSpan((int)s.Position, (int)length).ToArray();
                        s.Position += length;
                        break;
                    }

                case (13 or 14, _):
                    external = true;
                    Skip(s, wire, s.Length, file);
                    break;
                default:
                    Skip(s, wire, s.Length, file);
                    break;
            }
        }

        if (external && raw is null && floats is null)
        {
            throw new InvalidDataException($"{file}: initializer '{tensorName}' uses external data, which is not supported; use a single-file model.");
        }

        var count = dims.Aggregate(1L, (a, d) => a * d);
        float[] data;
        if (raw is not null)
        {
            data = dataType switch
            {
                Float when raw.Length == count * 4 => ToFloats(raw),
                Float16 when raw.Length == count * 2 => FromHalves(raw),
                Float or Float16 => throw new InvalidDataException(
                    $"{file}: initializer '{tensorName}' has {raw.Length} raw bytes for dims {TensorSpec.FormatDims(dims)}."),
                _ => throw new InvalidDataException($"{file}: initializer '{tensorName}' has data type {dataType}; expected float (1) or float16 (10)."),
            };
        }
        else if (floats is not null && dataType == Float)
        {
            data = [.. floats];
        }
        else
        {
            throw new InvalidDataException($"{file}: initializer '{tensorName}' (data type {dataType}) has neither raw_data nor float_data.");
        }

        if (data.Length != count)
        {
            throw new InvalidDataException($"{file}: initializer '{tensorName}' has {data.Length} values for dims {TensorSpec.FormatDims(dims)}.");
        }

        return new OnnxInitializer(tensorName, [.. dims], dataType, data);
    }

    private static float[] ToFloats(byte[] raw)
    {
        var data = new float[raw.Length / 4];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(4 * i));
        }

        return data;
    }

    private static float[] FromHalves(byte[] raw)
    {
        var data = new float[raw.Length / 2];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw.AsSpan(2 * i));
        }

        return data;
    }

    private static (long Start, long End)? FindField(Stream s, long start, long end, int wanted, string what, string file)
    {
        s.Position = start;
        while (s.Position < end)
        {
            var (field, wire) = ReadKey(s, file);
            if (field == wanted && wire == WireLength)
            {
                var length = ReadLength(s, end, file);
                return (s.Position, s.Position + length);
            }

            Skip(s, wire, end, file);
        }

        _ = what;
        return null;
    }

    private static (int Field, int Wire) ReadKey(Stream s, string file)
    {
        var key = ReadVarint(s, file);
        var field = (int)(key >> 3);
        if (field == 0)
        {
            throw new InvalidDataException($"{file}: invalid protobuf (field 0 at byte {s.Position}) — not an ONNX model?");
        }

        return (field, (int)(key & 7));
    }

    private static ulong ReadVarint(Stream s, string file)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = s.ReadByte();
            if (b < 0)
            {
                throw new EndOfStreamException();
            }

            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InvalidDataException($"{file}: invalid protobuf varint at byte {s.Position}.");
    }

    private static long ReadLength(Stream s, long end, string file)
    {
        var length = ReadVarint(s, file);
        if (length > (ulong)(end - s.Position))
        {
            throw new InvalidDataException($"{file}: protobuf field of {length} bytes runs past its end at byte {s.Position} — truncated or not an ONNX model.");
        }

        return (long)length;
    }

    private static void Skip(Stream s, int wire, long end, string file)
    {
        switch (wire)
        {
            case WireVarint:
                ReadVarint(s, file);
                break;
            case WireFixed64:
                s.Position += 8;
                break;
            case WireLength:
                {
                    // Read the length first: "s.Position += ReadLength(...)" would add it to the position before the varint.
                    var length = ReadLength(s, end, file);
                    s.Position += length;
                    break;
                }

            case WireFixed32:
                s.Position += 4;
                break;
            default:
                throw new InvalidDataException($"{file}: unsupported protobuf wire type {wire} at byte {s.Position} — not an ONNX model?");
        }

        if (s.Position > end)
        {
            throw new InvalidDataException($"{file}: protobuf field runs past its end — truncated or not an ONNX model.");
        }
    }
}
