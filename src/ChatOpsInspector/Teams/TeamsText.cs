using System.Text;

namespace ChatOpsInspector.Teams;

/// <summary>
/// Escapes finding text for the Adaptive Card / Teams markdown subset, so that text an attacker can
/// put in a finding (package names, descriptions, tags) renders literally: no links, no emphasis, no
/// headings or lists, no HTML and no <c>&lt;at&gt;</c> mentions.
/// </summary>
internal static class TeamsText
{
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var sb = new StringBuilder(text.Length + 16);
        var lineStart = true;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\r':
                    continue;
                case '\n':
                    sb.Append('\n');
                    lineStart = true;
                    continue;
                case '&':
                    sb.Append("&amp;");
                    break;
                case '<':
                    sb.Append("&lt;");
                    break;
                case '>':
                    sb.Append("&gt;");
                    break;
                case '\\' or '*' or '_' or '[' or ']' or '(' or ')' or '`' or '~' or '|':
                    sb.Append('\\').Append(c);
                    break;
                case '#' or '-' or '+' or '=' when lineStart || OnlySpacesBefore(text, i):
                    sb.Append('\\').Append(c);
                    break;
                case '.' when i > 0 && char.IsAsciiDigit(text[i - 1]) && OnlyDigitsBefore(text, i):
                    // "1. text" at a line start would become an ordered list.
                    sb.Append("\\.");
                    break;
                case ':' when i + 2 < text.Length && text[i + 1] == '/' && text[i + 2] == '/':
                    // Breaks bare-URL autolinking ("http://evil") while still reading as a URL.
                    sb.Append(":\\/\\/");
                    i += 2;
                    break;
                default:
                    sb.Append(c);
                    break;
            }
            lineStart = false;
        }
        return sb.ToString();
    }

    /// <summary>
    /// Text for a TextRun, which Adaptive Cards never read as markdown: shown as written, so it needs no
    /// escaping (escapes would show). Only control characters other than line breaks are dropped.
    /// </summary>
    public static string Literal(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c == '\n' || !char.IsControl(c))
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    /// <summary>Plain text cut to <paramref name="max"/> characters, for fields Teams limits.</summary>
    public static string Cut(string? text, int max) =>
        text is null ? "" : text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");

    private static bool OnlySpacesBefore(string text, int index)
    {
        for (var j = index - 1; j >= 0 && text[j] != '\n'; j--)
        {
            if (text[j] != ' ' && text[j] != '\t')
            {
                return false;
            }
        }
        return true;
    }

    private static bool OnlyDigitsBefore(string text, int index)
    {
        var j = index - 1;
        while (j >= 0 && char.IsAsciiDigit(text[j]))
        {
            j--;
        }
        return j < 0 || text[j] == '\n';
    }
}
