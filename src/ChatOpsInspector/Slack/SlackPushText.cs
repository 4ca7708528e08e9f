using ChatOpsInspector.Cards;

namespace ChatOpsInspector.Slack;

/// <summary>
/// The <c>text</c> of a card message: what a phone shows in the push notification and what screen
/// readers announce. Inspector titles usually start with the vulnerability id ("CVE-2024-1 - snapd"),
/// so the id is said once.
/// </summary>
internal static class SlackPushText
{
    public static string For(AlertCardView card)
    {
        var title = card.Title.Trim();
        if (title.StartsWith(card.VulnerabilityId, StringComparison.OrdinalIgnoreCase))
        {
            title = title[card.VulnerabilityId.Length..].TrimStart(' ', '-', ':', '–', '—');
        }
        var what = title.Length == 0 ? card.VulnerabilityId : $"{card.VulnerabilityId} in {title}";
        var text = $"{AlertCardBuilder.SeverityLabel(card.Severity)} {what} — {card.OpenCount} open, {card.Owner}";
        return SlackText.EscapeTruncate(text, SlackLimits.MessageText);
    }
}
