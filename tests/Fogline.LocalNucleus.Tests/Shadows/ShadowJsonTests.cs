using System.Text;
using Fogline.LocalNucleus.Shadows;

namespace Fogline.LocalNucleus.Tests.Shadows;

/// <summary>The JSON the shadow manager reads and writes (Jackson's), and its page tokens.</summary>
public class ShadowJsonTests
{
    [TestCase(1.0, "1.0")]
    [TestCase(100.0, "100.0")]
    [TestCase(2.5, "2.5")]
    [TestCase(-0.0, "-0.0")]
    [TestCase(0.001, "0.001")]
    [TestCase(0.0001, "1.0E-4")]
    [TestCase(1.5e-5, "1.5E-5")]
    [TestCase(1234567.0, "1234567.0")]
    [TestCase(1e7, "1.0E7")]
    [TestCase(123456789.0, "1.23456789E8")]
    [TestCase(1e21, "1.0E21")]
    [TestCase(0.30000000000000004, "0.30000000000000004")]
    [TestCase(-12.75, "-12.75")]
    public void Doubles_AreWrittenAsJavaWritesThem(double value, string expected) =>
        Assert.That(Fogline.Greengrass.Recipes.JavaNumbers.DoubleToString(value), Is.EqualTo(expected));

    [Test]
    public void Documents_AreWrittenAsJacksonWritesThem()
    {
        var node = Parse("""{ "s" : "a\u0001\n\t\"\\/é😀", "i": 12, "big": 123456789012345678901234567890, "d": 1e2, "f": 1.50, "b": [true, false, null] }""");

        Assert.That(ShadowJson.ToJsonString(node), Is.EqualTo("""{"s":"a\u0001\n\t\"\\/é😀","i":12,"big":123456789012345678901234567890,"d":100.0,"f":1.5,"b":[true,false,null]}"""));
        Assert.That(Encoding.UTF8.GetString(ShadowJson.ToBytes(node)), Does.Contain("é😀"), "non-ASCII is written as UTF-8, not escaped");
    }

    [Test]
    public void Parsing_KeepsTheFirstValue_AndARepeatedMemberReplacesInPlace()
    {
        Assert.That(ShadowJson.ToJsonString(Parse("""{"a":1,"b":2,"a":3} trailing"""u8)), Is.EqualTo("""{"a":3,"b":2}"""));
        Assert.That(ShadowJson.Parse("   "u8), Is.Null, "blank input has no value");
        Assert.That(ShadowJson.ToJsonString(Parse("\uFEFF{\"a\":1}"u8)), Is.EqualTo("""{"a":1}"""), "a byte order mark is skipped");
        Assert.Catch<System.Text.Json.JsonException>(() => ShadowJson.Parse("{\"a\":"u8));
    }

    [Test]
    public void Equality_IsJacksons_IntegersAndDoublesDiffer()
    {
        Assert.That(Parse("""{"a":[1,{"x":2}],"b":"s"}""").JavaEquals(Parse("""{"b":"s","a":[1,{"x":2}]}""")), Is.True, "objects compare as maps");
        Assert.That(Parse("[1]").JavaEquals(Parse("[1.0]")), Is.False);
        Assert.That(Parse("[1,2]").JavaEquals(Parse("[2,1]")), Is.False);
    }

    [Test]
    public void TheDelta_ComparesNumbersByValue_AndMarksRemovedDesiredKeysNull()
    {
        var delta = ShadowMerge.CalculateDelta(Parse("""{"a":1,"b":[1],"c":{"d":1},"e":3}"""), Parse("""{"a":1.0,"b":[1.0],"c":{"d":2},"f":{}}"""));

        Assert.That(ShadowJson.ToJsonString(delta!), Is.EqualTo("""{"b":[1.0],"c":{"d":2}}"""));
        Assert.That(ShadowMerge.CalculateDelta(Parse("""{"a":{"b":1}}"""), Parse("""{"a":{"b":1}}""")), Is.Null);
    }

    [Test]
    public void PageTokens_RoundTrip_ForTheirComponentAndThing()
    {
        var token = ShadowPageToken.Encode(25, "com.example.App", "MyThing");

        Assert.That(token, Is.EqualTo(ShadowPageToken.Encode(25, "com.example.App", "MyThing")), "tokens are deterministic");
        Assert.That(Convert.FromBase64String(token), Has.Length.EqualTo(16));
        Assert.That(ShadowPageToken.Decode(token, "com.example.App", "MyThing"), Is.EqualTo(25));
        Assert.That(ShadowPageToken.Encode(50, "com.example.App", "MyThing"), Is.Not.EqualTo(token));
    }

    [TestCase("ab!d", "Illegal base64 character 21")]
    [TestCase("A", "Input byte[] should at least have 2 bytes for base64 bytes")]
    [TestCase("AAAAA", "Last unit does not have enough valid bits")]
    [TestCase("=AAA", "Input byte array has wrong 4-byte ending unit")]
    [TestCase("AA=", "Input byte array has wrong 4-byte ending unit")]
    [TestCase("AA==A", "Input byte array has incorrect ending byte at 4")]
    [TestCase("AAé=", "Illegal base64 character -17")]
    public void Base64_IsDecodedAsJavaDecodesIt(string token, string message)
    {
        var ex = Assert.Throws<ShadowRequestException>(() => ShadowPageToken.JavaBase64Decode(token));
        Assert.That(ex!.Message, Is.EqualTo(message));
    }

    [Test]
    public void Base64_PaddingIsOptional()
    {
        Assert.That(ShadowPageToken.JavaBase64Decode("QUI="), Is.EqualTo("AB"u8.ToArray()));
        Assert.That(ShadowPageToken.JavaBase64Decode("QUI"), Is.EqualTo("AB"u8.ToArray()));
        Assert.That(ShadowPageToken.JavaBase64Decode("QQ=="), Is.EqualTo("A"u8.ToArray()));
    }

    private static JNode Parse(string json) => ShadowJson.Parse(Encoding.UTF8.GetBytes(json))!;

    private static JNode Parse(ReadOnlySpan<byte> json) => ShadowJson.Parse(json)!;
}
