using System.Security.Cryptography;
using System.Text;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>Signs requests the way Slack does: <c>v0=</c> + hex HMAC-SHA256(secret, <c>v0:{ts}:{body}</c>).</summary>
internal static class SlackSigner
{
    public const string Secret = "bench-signing-secret-8f14e45fceea167a5a36dedd4bea2543";

    public static string Sign(string body, long timestamp, string secret = Secret)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"v0:{timestamp}:{body}"));
        return "v0=" + Convert.ToHexStringLower(mac);
    }

    public static HttpRequestMessage Request(string path, string formBody, long? timestamp = null, string? signature = null)
    {
        var ts = timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(formBody, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Add("X-Slack-Request-Timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("X-Slack-Signature", signature ?? Sign(formBody, ts));
        return request;
    }
}
