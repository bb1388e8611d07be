namespace Fogline.EventStream.Framing;

/// <summary>The ten header value types of the eventstream format, with their wire codes.</summary>
public enum HeaderType : byte
{
    /// <summary>Boolean true; no value bytes.</summary>
    BoolTrue = 0,

    /// <summary>Boolean false; no value bytes.</summary>
    BoolFalse = 1,

    /// <summary>Signed 8-bit integer.</summary>
    Byte = 2,

    /// <summary>Signed 16-bit big-endian integer.</summary>
    Int16 = 3,

    /// <summary>Signed 32-bit big-endian integer.</summary>
    Int32 = 4,

    /// <summary>Signed 64-bit big-endian integer.</summary>
    Int64 = 5,

    /// <summary>Bytes with a 16-bit big-endian length prefix.</summary>
    ByteBuffer = 6,

    /// <summary>UTF-8 text with a 16-bit big-endian length prefix.</summary>
    String = 7,

    /// <summary>Milliseconds since the Unix epoch, signed 64-bit big-endian.</summary>
    Timestamp = 8,

    /// <summary>16 bytes, in network (big-endian) order.</summary>
    Uuid = 9,
}
