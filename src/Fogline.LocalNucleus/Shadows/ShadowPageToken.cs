using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Fogline.LocalNucleus.Shadows;

/// <summary>
/// The nextToken of ListNamedShadowsForThing as the shadow manager makes it: the offset of the next page, as decimal
/// text, encrypted with AES-256-CBC (PKCS#5 padding, zero IV) under a key derived with PBKDF2-HMAC-SHA256 (65,536
/// iterations) from the caller's name followed by the thing name, salted with the thing name, in standard Base64.
/// A token is thus only good for the component and thing it was made for.
/// </summary>
internal static class ShadowPageToken
{
    private const int Iterations = 65_536;
    private const int KeyBytes = 32;
    private const int MaxCachedKeys = 1024;

    private static readonly ConcurrentDictionary<(string Principal, string ThingName), byte[]> s_keys = new();

    /// <summary>A token for <paramref name="offset"/>.</summary>
    public static string Encode(int offset, string principal, string thingName)
    {
        using var aes = Aes.Create();
        aes.Key = Key(principal, thingName);
        var encrypted = aes.EncryptCbc(Encoding.UTF8.GetBytes(offset.ToString(CultureInfo.InvariantCulture)), new byte[16], PaddingMode.PKCS7);
        return Convert.ToBase64String(encrypted);
    }

    /// <summary>
    /// The offset of a token; throws <see cref="ShadowRequestException"/> with the message the shadow manager answers
    /// (InvalidArgumentsError) when the token is not one of its tokens for this component and thing.
    /// </summary>
    public static int Decode(string token, string principal, string thingName)
    {
        var bytes = JavaBase64Decode(token);
        byte[] plain;
        try
        {
            using var aes = Aes.Create();
            aes.Key = Key(principal, thingName);
            plain = aes.DecryptCbc(bytes, new byte[16], PaddingMode.PKCS7);
        }
        catch (CryptographicException)
        {
            throw new ShadowRequestException("Invalid nextToken argument");
        }

        var text = Encoding.UTF8.GetString(plain);
        return ShadowValidation.TryParseJavaInt(text, out var offset, out var error) ? offset : throw new ShadowRequestException(error!);
    }

    private static byte[] Key(string principal, string thingName)
    {
        if (s_keys.TryGetValue((principal, thingName), out var key))
        {
            return key;
        }

        key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(principal + thingName), Encoding.UTF8.GetBytes(thingName), Iterations, HashAlgorithmName.SHA256, KeyBytes);
        if (s_keys.Count >= MaxCachedKeys)
        {
            s_keys.Clear();
        }

        s_keys[(principal, thingName)] = key;
        return key;
    }

    /// <summary>
    /// Java's <c>Base64.getDecoder().decode(String)</c>: the string's ISO-8859-1 bytes (other characters become '?'),
    /// the standard alphabet, optional padding, with its IllegalArgumentException messages.
    /// </summary>
    public static byte[] JavaBase64Decode(string text)
    {
        var src = new byte[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            src[i] = text[i] <= 0xFF ? (byte)text[i] : (byte)'?';
        }

        if (src.Length == 0)
        {
            return [];
        }

        if (src.Length < 2)
        {
            throw new ShadowRequestException("Input byte[] should at least have 2 bytes for base64 bytes");
        }

        var output = new List<byte>(src.Length * 3 / 4);
        var bits = 0;
        var shiftTo = 18;
        var sp = 0;
        while (sp < src.Length)
        {
            var c = src[sp++];
            var b = Alphabet(c);
            if (b < 0)
            {
                if (c == '=')
                {
                    // "=" where no bits are pending, or a single "=" after two characters not followed by another.
                    if ((shiftTo == 6 && (sp == src.Length || src[sp++] != '=')) || shiftTo == 18)
                    {
                        throw new ShadowRequestException("Input byte array has wrong 4-byte ending unit");
                    }

                    break;
                }

                throw new ShadowRequestException("Illegal base64 character " + JavaHex((sbyte)c));
            }

            bits |= b << shiftTo;
            shiftTo -= 6;
            if (shiftTo < 0)
            {
                output.Add((byte)(bits >> 16));
                output.Add((byte)(bits >> 8));
                output.Add((byte)bits);
                shiftTo = 18;
                bits = 0;
            }
        }

        if (shiftTo == 6)
        {
            output.Add((byte)(bits >> 16));
        }
        else if (shiftTo == 0)
        {
            output.Add((byte)(bits >> 16));
            output.Add((byte)(bits >> 8));
        }
        else if (shiftTo == 12)
        {
            throw new ShadowRequestException("Last unit does not have enough valid bits");
        }

        if (sp < src.Length)
        {
            throw new ShadowRequestException("Input byte array has incorrect ending byte at " + sp.ToString(CultureInfo.InvariantCulture));
        }

        return [.. output];
    }

    // Integer.toString(b, 16) of a signed byte: "2e", "-20".
    private static string JavaHex(sbyte value) =>
        value < 0 ? "-" + (-value).ToString("x", CultureInfo.InvariantCulture) : value.ToString("x", CultureInfo.InvariantCulture);

    private static int Alphabet(byte c) => c switch
    {
        >= (byte)'A' and <= (byte)'Z' => c - 'A',
        >= (byte)'a' and <= (byte)'z' => c - 'a' + 26,
        >= (byte)'0' and <= (byte)'9' => c - '0' + 52,
        (byte)'+' => 62,
        (byte)'/' => 63,
        _ => -1,
    };
}
