using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Teams;

/// <summary>What a command answers: plain, unescaped text plus cards; the worker escapes and renders them.</summary>
internal sealed record TeamsCommandReply(string Text, IReadOnlyList<AlertCardView> Cards);

/// <summary>
/// Runs a message typed to the bot as a <c>/vulns</c> command.
/// INTEGRATION POINT for the shared Commands/ handler: once merged, the body of <see cref="RunAsync"/>
/// becomes <c>var r = await handler.HandleAsync(CommandParser.Parse(text), actor, ct);
/// return new TeamsCommandReply(r.Text, r.Cards);</c> (inject <c>CommandHandler</c>, call
/// <c>services.AddCommands()</c> in AddTeams). Until then this handles the read-only subset
/// (help, mine, show ID, OWNER) so Teams users get answers.
/// </summary>
internal sealed partial class TeamsCommands(AlertQueries queries, FindingRouter router, TimeProvider time)
{
    public const int MaxCards = 3;
    public const int MaxListed = 10;

    public const string Help = """
        ChatOpsInspector: Amazon Inspector findings for your team.
        vulns OWNER: open alerts of an application, worst first
        vulns mine: alerts assigned to you
        vulns show CVE-…: the card of a vulnerability (or a group id)
        help: this text
        Buttons on each card acknowledge, assign, suppress and request patches.
        """;

    public async Task<TeamsCommandReply> RunAsync(string text, Actor actor, CancellationToken cancellationToken)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        if (words.Count > 0 && words[0].TrimStart('/').Equals("vulns", StringComparison.OrdinalIgnoreCase))
        {
            words.RemoveAt(0);
        }
        if (words.Count == 0 || words[0].Equals("help", StringComparison.OrdinalIgnoreCase))
        {
            return new TeamsCommandReply(Help, []);
        }
        var verb = words[0].ToLowerInvariant();
        if (verb == "mine")
        {
            var mine = await queries.AssignedToAsync(actor, cancellationToken);
            return mine.Count == 0
                ? new TeamsCommandReply("Nothing is assigned to you. 🎉", [])
                : new TeamsCommandReply(List($"Assigned to you ({mine.Count})", mine), Views(mine));
        }
        if (verb == "show" && words.Count > 1)
        {
            var found = await queries.FindAsync(words[1], cancellationToken);
            return found.Count == 0
                ? new TeamsCommandReply($"No alert for {words[1]}.", [])
                : new TeamsCommandReply(found.Count > MaxCards ? List($"{found.Count} alerts", found) : "", Views(found));
        }
        var owner = router.FindOwner(words[0])?.Owner ?? words[0];
        var groups = await queries.OpenGroupsAsync(owner, cancellationToken);
        if (groups.Count == 0)
        {
            var known = router.Owners.Select(o => o.Owner).Order(StringComparer.OrdinalIgnoreCase).Take(20);
            return router.FindOwner(words[0]) is null
                ? new TeamsCommandReply($"I don't know {words[0]}. Owners: {string.Join(", ", known)}. Type help for commands.", [])
                : new TeamsCommandReply($"{owner} has no open alerts. 🎉", []);
        }
        return new TeamsCommandReply(List($"Open alerts of {owner} ({groups.Count})", groups), []);
    }

    /// <summary>
    /// The text typed to the bot: its own &lt;at&gt;mention&lt;/at&gt; removed, other people's mentions
    /// reduced to their names (as a command argument), HTML entities decoded.
    /// </summary>
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
        text = MentionTag().Replace(text, m => m.Groups[1].Value);
        return WebUtility.HtmlDecode(text).Replace('\u00a0', ' ').Trim();
    }

    private string List(string title, IReadOnlyList<AlertGroup> groups)
    {
        var now = time.GetUtcNow();
        var sb = new StringBuilder(title).Append('\n');
        foreach (var g in groups.Take(MaxListed))
        {
            var view = AlertCardBuilder.Build(g, now);
            sb.Append($"{AlertCardBuilder.SeverityLabel(view.Severity)} {view.VulnerabilityId} {TeamsText.Cut(view.Title, 80)}")
              .Append($" — {view.OpenCount} open, {view.StateLabel}, SLA {AlertCardBuilder.Relative(view.SlaDueAt, now)}\n");
        }
        if (groups.Count > MaxListed)
        {
            sb.Append($"+{groups.Count - MaxListed} more");
        }
        return sb.ToString().TrimEnd();
    }

    private AlertCardView[] Views(IEnumerable<AlertGroup> groups) =>
        groups.Take(MaxCards).Select(g => AlertCardBuilder.Build(g, time.GetUtcNow())).ToArray();

    [GeneratedRegex("<at>(.*?)</at>", RegexOptions.IgnoreCase | RegexOptions.Singleline, 100)]
    private static partial Regex MentionTag();
}
