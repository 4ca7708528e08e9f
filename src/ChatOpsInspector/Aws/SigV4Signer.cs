using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime;

namespace ChatOpsInspector.Aws;

/// <summary>
/// AWS Signature Version 4 (header form) for the requests this bot sends itself over HttpClient.
/// </summary>
/// <remarks>
/// AWSSDK.Core's standalone signer always adds and signs <c>x-amz-content-sha256</c>, so it cannot be
/// checked against AWS's published test suite; this one signs exactly the headers it is given and
/// is proven on that suite (and against the SDK signer when both sign the same header set).
/// The path is canonicalised the way every non-S3 service expects: dot segments and empty segments
/// removed, then each segment URI-encoded once more (so an already-encoded wire path is encoded twice).
/// </remarks>
internal static class SigV4Signer
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>A request in the form SigV4 reasons about: path and query as written on the request line.</summary>
    internal sealed record Request(
        string Method,
        string Path,
        string Query,
        IReadOnlyList<KeyValuePair<string, string>> Headers,
        string PayloadHash);

    internal sealed record Signature(
        string CanonicalRequest,
        string StringToSign,
        string SignedHeaders,
        string Value,
        string Authorization);

    public static Signature Sign(Request request, string accessKey, string secretKey, string region, string service, DateTimeOffset signedAt)
    {
        var amzDate = FormatAmzDate(signedAt);
        var date = amzDate[..8];
        var (canonicalHeaders, signedHeaders) = CanonicalHeaders(request.Headers);
        var canonicalRequest = string.Join('\n',
            request.Method.ToUpperInvariant(),
            CanonicalPath(request.Path),
            CanonicalQuery(request.Query),
            canonicalHeaders,
            signedHeaders,
            request.PayloadHash);
        var scope = $"{date}/{region}/{service}/aws4_request";
        var stringToSign = $"{Algorithm}\n{amzDate}\n{scope}\n{Sha256Hex(Encoding.UTF8.GetBytes(canonicalRequest))}";
        var key = SigningKey(secretKey, date, region, service);
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        var authorization = $"{Algorithm} Credential={accessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
        return new Signature(canonicalRequest, stringToSign, signedHeaders, signature, authorization);
    }

    /// <summary>
    /// Signs an outgoing request in place: adds <c>X-Amz-Date</c>, <c>X-Amz-Security-Token</c> (session
    /// credentials) and <c>Authorization</c>. Signs host, content-type and every <c>x-amz-*</c> header, and
    /// nothing that handlers further down the pipeline may add or rewrite (user-agent, traceparent, ...).
    /// </summary>
    public static Signature SignRequest(
        HttpRequestMessage message,
        ReadOnlySpan<byte> body,
        ImmutableCredentials credentials,
        string region,
        string service,
        DateTimeOffset signedAt)
    {
        var uri = message.RequestUri ?? throw new ArgumentException("The request has no URI.", nameof(message));
        if (!uri.IsAbsoluteUri)
        {
            throw new ArgumentException("SigV4 needs the absolute request URI.", nameof(message));
        }

        var amzDate = FormatAmzDate(signedAt);
        message.Headers.Remove("X-Amz-Date");
        message.Headers.Remove("X-Amz-Security-Token");
        message.Headers.Remove("Authorization");
        message.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        if (credentials.UseToken)
        {
            message.Headers.TryAddWithoutValidation("X-Amz-Security-Token", credentials.Token);
        }

        var headers = new List<KeyValuePair<string, string>>
        {
            new("host", message.Headers.Host ?? uri.Authority),
        };
        if (message.Content?.Headers.ContentType is { } contentType)
        {
            headers.Add(new("content-type", contentType.ToString()));
        }

        foreach (var header in message.Headers)
        {
            if (header.Key.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase))
            {
                headers.AddRange(header.Value.Select(v => new KeyValuePair<string, string>(header.Key, v)));
            }
        }

        var signature = Sign(
            new Request(message.Method.Method, uri.AbsolutePath, uri.Query.TrimStart('?'), headers, Sha256Hex(body)),
            credentials.AccessKey,
            credentials.SecretKey,
            region,
            service,
            signedAt);
        message.Headers.TryAddWithoutValidation("Authorization", signature.Authorization);
        return signature;
    }

    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string FormatAmzDate(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    internal static string CanonicalPath(string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "/";
        }

        var segments = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            switch (segment)
            {
                case "" or ".":
                    continue;
                case "..":
                    if (segments.Count > 0)
                    {
                        segments.RemoveAt(segments.Count - 1);
                    }

                    continue;
                default:
                    segments.Add(UriEncode(segment));
                    break;
            }
        }

        if (segments.Count == 0)
        {
            return "/";
        }

        var trailingSlash = path.EndsWith('/') || path.EndsWith("/.", StringComparison.Ordinal) || path.EndsWith("/..", StringComparison.Ordinal);
        return "/" + string.Join('/', segments) + (trailingSlash ? "/" : "");
    }

    internal static string CanonicalQuery(string query)
    {
        if (string.IsNullOrEmpty(query))
        {
            return "";
        }

        var pairs = new List<(string Key, string Value)>();
        foreach (var part in query.Split('&'))
        {
            if (part.Length == 0)
            {
                continue;
            }

            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? "" : part[(equals + 1)..];
            pairs.Add((UriEncode(QueryDecode(key)), UriEncode(QueryDecode(value))));
        }

        return string.Join('&', pairs
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => $"{p.Key}={p.Value}"));
    }

    internal static (string CanonicalHeaders, string SignedHeaders) CanonicalHeaders(IEnumerable<KeyValuePair<string, string>> headers)
    {
        var grouped = headers
            .GroupBy(h => h.Key.Trim().ToLowerInvariant())
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Value: string.Join(',', g.Select(h => CollapseWhitespace(h.Value)))))
            .ToList();
        var canonical = new StringBuilder();
        foreach (var (name, value) in grouped)
        {
            canonical.Append(name).Append(':').Append(value).Append('\n');
        }

        return (canonical.ToString(), string.Join(';', grouped.Select(g => g.Name)));
    }

    /// <summary>RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, upper-case hex.</summary>
    internal static string UriEncode(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    // A '+' in a query is a space to AWS services (form encoding), so it must be decoded as one.
    private static string QueryDecode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));

    private static string CollapseWhitespace(string value)
    {
        var trimmed = value.Trim();
        var builder = new StringBuilder(trimmed.Length);
        var previousWasSpace = false;
        foreach (var c in trimmed)
        {
            var isSpace = c is ' ' or '\t';
            if (!(isSpace && previousWasSpace))
            {
                builder.Append(isSpace ? ' ' : c);
            }

            previousWasSpace = isSpace;
        }

        return builder.ToString();
    }

    private static byte[] SigningKey(string secretKey, string date, string region, string service)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secretKey), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, "aws4_request"u8);
    }
}
