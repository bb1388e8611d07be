using Fogline.EventStream.Framing;

namespace Fogline.EventStream.Tests.Framing;

public class Crc32Tests
{
    [Test]
    public void Compute_KnownCheckValue()
    {
        // The standard CRC-32 check value: CRC of the ASCII digits 1..9.
        Assert.That(Crc32.Compute("123456789"u8), Is.EqualTo(0xCBF43926u));
        Assert.That(Crc32.Compute(ReadOnlySpan<byte>.Empty), Is.EqualTo(0u));
    }

    [Test]
    public void Compute_AnyLengthAndAlignment_EqualsTheBytewiseTableComputation()
    {
        var random = new Random(1234);
        var buffer = new byte[4096 + 64];
        random.NextBytes(buffer);
        for (var length = 0; length <= 1100; length++)
        {
            var offset = random.Next(0, 64);
            var data = buffer.AsSpan(offset, length);
            Assert.That(Crc32.Compute(data), Is.EqualTo(Crc32.AppendWithTables(0, data)), $"length {length}, offset {offset}");
        }
    }

    [Test]
    public void Append_InPieces_EqualsComputeOfTheWhole()
    {
        var random = new Random(99);
        var data = new byte[5000];
        random.NextBytes(data);
        for (var split = 0; split < data.Length; split += 97)
        {
            var crc = Crc32.Append(Crc32.Compute(data.AsSpan(0, split)), data.AsSpan(split));
            Assert.That(crc, Is.EqualTo(Crc32.Compute(data)), $"split at {split}");
        }
    }
}
