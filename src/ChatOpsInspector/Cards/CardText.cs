using System.Text.RegularExpressions;

namespace ChatOpsInspector.Cards;

/// <summary>Plain-text helpers for finding text before any platform escapes it.</summary>
internal static partial class CardText
{
    /// <summary>
    /// Cuts <paramref name="text"/> to about <paramref name="max"/> characters without cutting a URL in
    /// two: a cut inside a URL moves to before it, so a responder never follows half a link.
    /// </summary>
    public static string ShortenKeepingUrls(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }
        var cut = max - 1;
        foreach (Match url in UrlPattern().Matches(text))
        {
            if (url.Index < cut && url.Index + url.Length > cut)
            {
                cut = url.Index;
                break;
            }
        }
        while (cut > 0 && char.IsWhiteSpace(text[cut - 1]))
        {
            cut--;
        }
        if (cut > 0 && char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }
        return string.Concat(text.AsSpan(0, cut), "…");
    }

    /// <summary>
    /// <c>[label](https://x)</c> → <c>label (https://x)</c>, or just the URL when the label is the URL, as
    /// Inspector writes them. Cards show links they build themselves, never markdown from a finding.
    /// </summary>
    public static string UnwrapMarkdownLinks(string text) =>
        MarkdownLink().Replace(text, m =>
        {
            var label = m.Groups["label"].Value.Trim();
            var url = m.Groups["url"].Value.Trim();
            return label.Length == 0 || label == url ? url : $"{label} ({url})";
        });

    public static IEnumerable<string> Urls(string text) =>
        UrlPattern().Matches(text).Select(m => m.Value.TrimEnd('.', ',', ';', ':', ')', ']'));

    [GeneratedRegex(@"https?://[^\s<>""'\]\)]+", RegexOptions.CultureInvariant)]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"\[(?<label>[^\]\n]{0,500})\]\((?<url>https?://[^\s\)]{1,2000})\)", RegexOptions.CultureInvariant)]
    private static partial Regex MarkdownLink();
}
