using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Teams;

/// <summary>What a command answers: text, plus alert groups to show as cards.</summary>
internal sealed record CommandReply(string Text, IReadOnlyList<AlertGroup> Cards);

/// <summary>
/// Runs a message typed to the bot as a <c>/vulns</c> command.
/// INTEGRATION POINT: the shared parser in Commands/ (from the Slack branch) replaces
/// <see cref="RunAsync"/>'s body once merged: call it with the mention-stripped text and the
/// <see cref="Actor"/>, and map its result to <see cref="CommandReply"/>. Until then this handles the
/// read-only subset (help, mine, show ID, OWNER) so Teams users get answers.
/// </summary>
internal sealed partial class TeamsCommands(AlertQueries queries, FindingRouter router, TimeProvider time)
{
    public const int MaxCards = 3;
    public const int MaxListed = 10;

    public const string Help =
        "**ChatOpsInspector** — Amazon Inspector findings for your team.\n\n" +
        "- **vulns OWNER** — open alerts of an application, worst first\n" +
        "- **vulns mine** — alerts assigned to you\n" +
        "- **vulns show CVE-…** — the card of a vulnerability (or a group id)\n" +
        "- **help** — this text\n\n" +
        "Buttons on each card acknowledge, assign, suppress and request patches.";

    public async Task<CommandReply> RunAsync(string text, Actor actor, CancellationToken cancellationToken)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        if (words.Count > 0 && words[0].TrimStart('/').Equals("vulns", StringComparison.OrdinalIgnoreCase))
        {
            words.RemoveAt(0);
        }
        if (words.Count == 0 || words[0].Equals("help", StringComparison.OrdinalIgnoreCase))
        {
            return new CommandReply(Help, []);
        }
        var verb = words[0].ToLowerInvariant();
        if (verb == "mine")
        {
            var mine = await queries.AssignedToAsync(actor, cancellationToken);
            return mine.Count == 0
                ? new CommandReply("Nothing is assigned to you. 🎉", [])
                : new CommandReply(List($"Assigned to you ({mine.Count})", mine), mine.Take(MaxCards).ToArray());
        }
        if (verb == "show" && words.Count > 1)
        {
            var found = await queries.FindAsync(words[1], cancellationToken);
            return found.Count == 0
                ? new CommandReply($"No alert for {TeamsText.Escape(words[1])}.", [])
                : new CommandReply(found.Count > MaxCards ? List($"{found.Count} alerts", found) : "", found.Take(MaxCards).ToArray());
        }
        var owner = router.FindOwner(words[0])?.Owner ?? words[0];
        var groups = await queries.OpenGroupsAsync(owner, cancellationToken);
        if (groups.Count == 0)
        {
            var known = router.Owners.Select(o => o.Owner).Order(StringComparer.OrdinalIgnoreCase).Take(20);
            return router.FindOwner(words[0]) is null
                ? new CommandReply($"I don't know **{TeamsText.Escape(words[0])}**. Owners: {TeamsText.Escape(string.Join(", ", known))}. Type **help** for commands.", [])
                : new CommandReply($"**{TeamsText.Escape(owner)}** has no open alerts. 🎉", []);
        }
        return new CommandReply(List($"Open alerts of {owner} ({groups.Count})", groups), []);
    }

    /// <summary>The text typed to the bot, without the &lt;at&gt;mentions&lt;/at&gt; Teams puts in and its HTML entities.</summary>
    public static string CommandText(Activity activity)
    {
        var text = activity.Text ?? "";
        foreach (var mention in activity.Entities ?? [])
        {
            if (mention.Type == "mention" && mention.Mentioned?.Id == activity.Recipient?.Id && mention.Text is { Length: > 0 } tag)
            {
                text = text.Replace(tag, " ", StringComparison.Ordinal);
            }
        }
        text = MentionTag().Replace(text, " ");
        return WebUtility.HtmlDecode(text).Replace('\u00a0', ' ').Trim();
    }

    private string List(string title, IReadOnlyList<AlertGroup> groups)
    {
        var now = time.GetUtcNow();
        var sb = new StringBuilder($"**{TeamsText.Escape(title)}**\n\n");
        foreach (var g in groups.Take(MaxListed))
        {
            var view = AlertCardBuilder.Build(g, now);
            sb.Append($"- {AlertCardBuilder.SeverityLabel(view.Severity)} **{TeamsText.Escape(view.VulnerabilityId)}** {TeamsText.Escape(TeamsText.Cut(view.Title, 80))}")
              .Append($" — {view.OpenCount} open, {TeamsText.Escape(view.StateLabel)}, SLA {AlertCardBuilder.Relative(view.SlaDueAt, now)}\n");
        }
        if (groups.Count > MaxListed)
        {
            sb.Append($"\n+{groups.Count - MaxListed} more");
        }
        return sb.ToString();
    }

    [GeneratedRegex("<at>.*?</at>", RegexOptions.IgnoreCase | RegexOptions.Singleline, 100)]
    private static partial Regex MentionTag();
}
