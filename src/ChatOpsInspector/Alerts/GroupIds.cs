using System.Security.Cryptography;
using System.Text;

namespace ChatOpsInspector.Alerts;

/// <summary>Short, stable group ids that people can type: <c>/vulns ack 3f9a1c2b7d</c>.</summary>
internal static class GroupIds
{
    public static string For(string owner, string groupingKey)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(owner.ToLowerInvariant() + "\n" + groupingKey), hash);
        return Convert.ToHexStringLower(hash[..5]);
    }

    public static bool LooksLikeId(string text) => text.Length == 10 && text.All(char.IsAsciiHexDigitLower);
}
