using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ChatOpsInspector.Alerts;

/// <summary>
/// Stable group ids: 128 bits of SHA-256 over the owner and the grouping key, 32 lower-case hex
/// characters — safe in URLs, Slack action ids (255) and button values (2,000), Teams card data.
/// Each part is length-prefixed, so no owner/key pair can be spelled as another's, and 128 bits make
/// an accidental collision (two owners' groups merging into one) beyond reach at any fleet's size.
/// </summary>
internal static class GroupIds
{
    public const int Length = 32;

    public static string For(string owner, string groupingKey)
    {
        var ownerBytes = Encoding.UTF8.GetBytes(owner.ToLowerInvariant());
        var keyBytes = Encoding.UTF8.GetBytes(groupingKey);
        var input = new byte[8 + ownerBytes.Length + keyBytes.Length];
        BinaryPrimitives.WriteInt32BigEndian(input, ownerBytes.Length);
        ownerBytes.CopyTo(input, 4);
        BinaryPrimitives.WriteInt32BigEndian(input.AsSpan(4 + ownerBytes.Length), keyBytes.Length);
        keyBytes.CopyTo(input, 8 + ownerBytes.Length);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        return Convert.ToHexStringLower(hash[..(Length / 2)]);
    }

    public static bool LooksLikeId(string text) => text.Length == Length && text.All(char.IsAsciiHexDigitLower);
}
