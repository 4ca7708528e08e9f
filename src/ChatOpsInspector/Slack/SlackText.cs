using System.Text;

namespace ChatOpsInspector.Slack;

/// <summary>Slack's documented limits for the surfaces the bot builds.</summary>
internal static class SlackLimits
{
    public const int Blocks = 50;
    public const int HeaderText = 150;
    public const int SectionText = 3000;
    public const int Fields = 10;
    public const int FieldText = 2000;
    public const int ContextElements = 10;
    public const int ActionElements = 25;
    public const int ButtonText = 75;
    public const int ButtonValue = 2000;
    public const int ActionId = 255;
    public const int BlockId = 255;
    public const int MessageText = 4000;
    public const int ModalTitle = 24;
    public const int PrivateMetadata = 3000;
}

/// <summary>
/// Escaping for Slack text. Only <c>&amp;</c>, <c>&lt;</c> and <c>&gt;</c> are control characters in
/// mrkdwn; escaping them is what stops text from a finding mentioning <c>@channel</c> or forging links.
/// </summary>
internal static class SlackText
{
    public const string Ellipsis = "…";
    private const char EllipsisChar = '…';

    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        return text.Replace("&", "&amp;", StringComparison.Ordinal)
            .Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal);
    }

    /// <summary>Escapes and cuts so the escaped result fits <paramref name="max"/> chars, never splitting an entity or a surrogate pair.</summary>
    public static string EscapeTruncate(string? text, int max)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var escaped = Escape(text);
        if (escaped.Length <= max)
        {
            return escaped;
        }
        var builder = new StringBuilder(max);
        var budget = max - Ellipsis.Length;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var piece = c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                _ when char.IsHighSurrogate(c) && i + 1 < text.Length => text.Substring(i, 2),
                _ => null,
            };
            var length = piece?.Length ?? 1;
            if (builder.Length + length > budget)
            {
                break;
            }
            if (piece is null)
            {
                builder.Append(c);
            }
            else
            {
                builder.Append(piece);
                if (piece.Length == 2 && char.IsHighSurrogate(c))
                {
                    i++;
                }
            }
        }
        return builder.Append(EllipsisChar).ToString();
    }

    /// <summary>Cuts plain text (modal titles, option labels) to a limit.</summary>
    public static string Truncate(string? text, int max)
    {
        if (string.IsNullOrEmpty(text) || text.Length <= max)
        {
            return text ?? "";
        }
        var cut = max - Ellipsis.Length;
        if (cut > 0 && char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }
        return string.Concat(text.AsSpan(0, Math.Max(0, cut)), Ellipsis);
    }

    /// <summary>A mrkdwn link, or null when the URL is not plain https (nothing a finding can smuggle a scheme into).</summary>
    public static string? Link(string? url, string label)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || uri.AbsoluteUri.Length > 2000)
        {
            return null;
        }
        var safeUrl = Escape(uri.AbsoluteUri).Replace("|", "%7C", StringComparison.Ordinal);
        return $"<{safeUrl}|{Escape(label).Replace("|", "¦", StringComparison.Ordinal)}>";
    }
}
