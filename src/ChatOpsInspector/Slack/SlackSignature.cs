using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ChatOpsInspector.Slack;

/// <summary>
/// Slack's request signing: <c>v0=</c> hex HMAC-SHA256 of <c>v0:{timestamp}:{raw body}</c> with the
/// signing secret, accepted only within a window around now so captured requests cannot be replayed.
/// </summary>
internal static class SlackSignature
{
    public const string SignatureHeader = "X-Slack-Signature";
    public const string TimestampHeader = "X-Slack-Request-Timestamp";

    public static bool IsValid(
        string signingSecret,
        string? timestamp,
        string? signature,
        ReadOnlySpan<byte> body,
        DateTimeOffset now,
        TimeSpan tolerance)
    {
        if (string.IsNullOrEmpty(signingSecret) || string.IsNullOrEmpty(signature) || string.IsNullOrEmpty(timestamp)
            || timestamp.Length > 12
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return false;
        }
        var age = now.ToUnixTimeSeconds() - seconds;
        if (Math.Abs(age) > tolerance.TotalSeconds)
        {
            return false;
        }
        var expected = Compute(signingSecret, timestamp, body);
        var given = Encoding.ASCII.GetBytes(signature.Trim());
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>The signature Slack would send for this body, as ASCII bytes of <c>v0=hex</c>.</summary>
    public static byte[] Compute(string signingSecret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"v0:{timestamp}:");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingSecret), message);
        return Encoding.ASCII.GetBytes("v0=" + Convert.ToHexStringLower(mac));
    }
}
