using System.Buffers.Binary;
using System.Text.Unicode;

namespace Fogline.EventStream.Framing;

/// <summary>Validation of a header block and the fixed sizes of header values.</summary>
internal static class HeaderBlock
{
    /// <summary>Value length of fixed-size types, or -1 for the length-prefixed ones, or -2 for unknown types.</summary>
    public static int FixedValueLength(HeaderType type) => type switch
    {
        HeaderType.BoolTrue or HeaderType.BoolFalse => 0,
        HeaderType.Byte => 1,
        HeaderType.Int16 => 2,
        HeaderType.Int32 => 4,
        HeaderType.Int64 or HeaderType.Timestamp => 8,
        HeaderType.Uuid => 16,
        HeaderType.ByteBuffer or HeaderType.String => -1,
        _ => -2,
    };

    /// <summary>
    /// Checks that <paramref name="block"/> is a well-formed sequence of headers. <paramref name="blockOffset"/> is the
    /// offset of the block within the frame, used in error messages.
    /// </summary>
    public static void Validate(ReadOnlySpan<byte> block, int blockOffset, EventStreamLimits limits)
    {
        var position = 0;
        var count = 0;
        while (position < block.Length)
        {
            var headerStart = blockOffset + position;
            if (++count > limits.MaxHeaderCount)
            {
                throw new EventStreamFormatException(FormatErrorReason.TooManyHeaders,
                    $"The frame has more than {limits.MaxHeaderCount} headers", headerStart);
            }

            int nameLength = block[position];
            if (nameLength == 0)
            {
                throw new EventStreamFormatException(FormatErrorReason.InvalidHeaderName,
                    $"Header #{count} has an empty name", headerStart);
            }

            if (position + 1 + nameLength + 1 > block.Length)
            {
                throw new EventStreamFormatException(FormatErrorReason.HeaderTruncated,
                    $"Header #{count} (name of {nameLength} bytes) runs past the end of the {block.Length}-byte header block", headerStart);
            }

            var name = block.Slice(position + 1, nameLength);
            if (!Utf8.IsValid(name))
            {
                throw new EventStreamFormatException(FormatErrorReason.InvalidUtf8,
                    $"Header #{count} has a name that is not valid UTF-8", headerStart + 1);
            }

            position += 1 + nameLength;
            var typeByte = block[position];
            var type = (HeaderType)typeByte;
            var fixedLength = FixedValueLength(type);
            position++;
            if (fixedLength == -2)
            {
                throw new EventStreamFormatException(FormatErrorReason.UnknownHeaderType,
                    $"Header '{System.Text.Encoding.UTF8.GetString(name)}' has unknown value type {typeByte} (known types are 0 to 9)", blockOffset + position - 1);
            }

            if (fixedLength >= 0)
            {
                if (position + fixedLength > block.Length)
                {
                    throw new EventStreamFormatException(FormatErrorReason.HeaderTruncated,
                        $"Header '{System.Text.Encoding.UTF8.GetString(name)}' of type {type} needs {fixedLength} value bytes but the header block ends first", blockOffset + position);
                }

                position += fixedLength;
                continue;
            }

            if (position + 2 > block.Length)
            {
                throw new EventStreamFormatException(FormatErrorReason.HeaderTruncated,
                    $"Header '{System.Text.Encoding.UTF8.GetString(name)}' of type {type} has no room for its value length", blockOffset + position);
            }

            int valueLength = BinaryPrimitives.ReadUInt16BigEndian(block[position..]);
            if (valueLength > EventStreamLimits.MaxHeaderValueLengthOfFormat)
            {
                throw new EventStreamFormatException(FormatErrorReason.InvalidHeaderValueLength,
                    $"Header '{System.Text.Encoding.UTF8.GetString(name)}' declares a {valueLength}-byte value; the format allows at most {EventStreamLimits.MaxHeaderValueLengthOfFormat}", blockOffset + position);
            }

            position += 2;
            if (position + valueLength > block.Length)
            {
                throw new EventStreamFormatException(FormatErrorReason.HeaderTruncated,
                    $"Header '{System.Text.Encoding.UTF8.GetString(name)}' declares a {valueLength}-byte value but only {block.Length - position} bytes of the header block remain", blockOffset + position - 2);
            }

            if (type == HeaderType.String && !Utf8.IsValid(block.Slice(position, valueLength)))
            {
                throw new EventStreamFormatException(FormatErrorReason.InvalidUtf8,
                    $"Header '{System.Text.Encoding.UTF8.GetString(name)}' has a string value that is not valid UTF-8", blockOffset + position);
            }

            position += valueLength;
        }
    }
}
