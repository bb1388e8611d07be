using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Fogline.Aws;
using Fogline.Aws.Signing;

namespace Fogline.LocalCloud.S3;

/// <summary>
/// Bodies sent with <c>Content-Encoding: aws-chunked</c> (the AWS SDKs' streaming uploads): chunks of
/// <c>hex-size[;chunk-signature=sig]\r\ndata\r\n</c>, a last empty chunk, then trailers (checksums). With
/// <c>STREAMING-AWS4-HMAC-SHA256-PAYLOAD</c> every chunk is signed, each signature chained to the previous one from
/// the request's own; they are checked. Returns the data and the trailers.
/// </summary>
internal static class AwsChunkedDecoder
{
    public static (byte[] Data, Dictionary<string, string> Trailers) Decode(byte[] body, string contentSha256, Auth.AuthResult auth)
    {
        var signed = contentSha256.StartsWith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", StringComparison.Ordinal);
        var previous = auth.SeedSignature;
        var data = new MemoryStream();
        var trailers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var position = 0;
        while (true)
        {
            var lineEnd = IndexOfCrLf(body, position) ?? throw Malformed("a chunk header has no end");
            var header = Encoding.ASCII.GetString(body, position, lineEnd - position);
            position = lineEnd + 2;
            var semicolon = header.IndexOf(';', StringComparison.Ordinal);
            var sizeText = semicolon < 0 ? header : header[..semicolon];
            if (!int.TryParse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size) || size < 0 || position + size > body.Length)
            {
                throw Malformed($"a chunk size '{sizeText}' that does not fit the body");
            }

            var chunk = body.AsSpan(position, size);
            if (signed)
            {
                var marker = ";chunk-signature=";
                var at = header.IndexOf(marker, StringComparison.Ordinal);
                if (at < 0)
                {
                    throw Malformed("a chunk without its signature");
                }

                var expected = ChunkSignature(auth, previous!, chunk);
                if (!string.Equals(expected, header[(at + marker.Length)..], StringComparison.Ordinal))
                {
                    throw new AwsServiceException("SignatureDoesNotMatch", 403, Auth.SigV4Verifier.SignatureMismatch(s3: true));
                }

                previous = expected;
            }

            data.Write(chunk);
            position += size;
            if (size == 0)
            {
                // Trailers, one per line, until an empty line (or the end).
                while (IndexOfCrLf(body, position) is { } end && end > position)
                {
                    var line = Encoding.ASCII.GetString(body, position, end - position);
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0)
                    {
                        trailers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                    }

                    position = end + 2;
                }

                return (data.ToArray(), trailers);
            }

            if (IndexOfCrLf(body, position) != position)
            {
                throw Malformed("a chunk not followed by CRLF");
            }

            position += 2;
        }
    }

    private static string ChunkSignature(Auth.AuthResult auth, string previous, ReadOnlySpan<byte> chunk)
    {
        var stringToSign = $"AWS4-HMAC-SHA256-PAYLOAD\n{auth.SignedAt.ToString(SigV4.DateFormat, CultureInfo.InvariantCulture)}\n{auth.Scope}\n{previous}\n{SigV4.EmptyPayloadHash}\n{SigV4.Hash(chunk)}";
        return Convert.ToHexStringLower(HMACSHA256.HashData(auth.SigningKey!, Encoding.UTF8.GetBytes(stringToSign)));
    }

    private static int? IndexOfCrLf(byte[] body, int from)
    {
        for (var i = from; i + 1 < body.Length; i++)
        {
            if (body[i] == '\r' && body[i + 1] == '\n')
            {
                return i;
            }
        }

        return null;
    }

    private static AwsServiceException Malformed(string what) =>
        new("IncompleteBody", 400, "The aws-chunked body is malformed: " + what + ".");
}
