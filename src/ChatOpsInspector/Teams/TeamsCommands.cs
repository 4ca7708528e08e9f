using System.Net;
using System.Text.RegularExpressions;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Commands;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Teams;

/// <summary>
/// What a command answers: plain, unescaped text plus cards; the worker escapes and renders them.
/// <paramref name="Public"/>: fit for everyone in a channel (shared with <c>--share</c> where allowed, or the
/// help text); anything else is private, as a Slack ephemeral reply would be.
/// </summary>
internal sealed record TeamsCommandReply(string Text, IReadOnlyList<AlertCardView> Cards, bool Public = false, ChartImage? Chart = null);

/// <summary>
/// Runs a message typed to the bot (personal chat or @mention) through the same <c>/vulns</c> parser
/// and handler as Slack; "vulns" in front is optional.
/// </summary>
internal sealed partial class TeamsCommands(CommandHandler handler, TeamsMemberDirectory members, TimeProvider time)
{
    public const int MaxCards = 3;

    public async Task<TeamsCommandReply> RunAsync(string text, Actor actor, CancellationToken cancellationToken)
    {
        var parsed = CommandParser.Parse(text);
        var reply = await handler.HandleAsync(parsed, actor, cancellationToken);
        return new TeamsCommandReply(InTeamsWords(parsed, reply.Text), reply.Cards, reply.Share || parsed.Kind == CommandKind.Help, reply.Chart);
    }

    /// <summary>
    /// How to use the bot in Teams: there is no slash command, and nothing is private in a channel, so
    /// Slack's <c>--share</c> does not apply.
    /// </summary>
    public static string HelpText { get; } =
        "Write to me in a personal chat, or @mention me in a channel (\"@ChatOps Inspector vulns mine\"). In a channel, answers about alerts come to you in our personal chat.\n"
        + string.Join('\n', CommandHandler.HelpText.Split('\n').Skip(1)
            .Where(line => !line.Contains("--share", StringComparison.Ordinal))
            .Select(line => line.Replace(CommandHandler.Prefix, "vulns", StringComparison.Ordinal)));

    /// <summary>The shared handler speaks Slack ("/vulns …"); in Teams commands are typed as "vulns …".</summary>
    private static string InTeamsWords(ParsedCommand parsed, string text) =>
        parsed.Kind == CommandKind.Help ? HelpText : text.Replace(CommandHandler.Prefix, "vulns", StringComparison.Ordinal);

    /// <summary>
    /// Runs a message as typed, with its mentions: <c>vulns assign ID @Ana</c> in Teams arrives as the text
    /// <c>&lt;at&gt;Ana Alvarez&lt;/at&gt;</c> plus a <c>mention</c> entity naming the person, and the entity
    /// (not the display name, which may have spaces or be shared) says who is meant.
    /// </summary>
    public async Task<TeamsCommandReply> RunAsync(Activity activity, Actor actor, CancellationToken cancellationToken)
    {
        var people = new List<ChannelAccount>();
        var text = CommandText(activity, people);
        var parsed = CommandParser.Parse(text);
        if (parsed.Assignee is { Id: null, Email: null, Name: { } placeholder }
            && placeholder.StartsWith(MentionPlaceholder, StringComparison.Ordinal)
            && int.TryParse(placeholder.AsSpan(MentionPlaceholder.Length), System.Globalization.CultureInfo.InvariantCulture, out var index)
            && index >= 0 && index < people.Count)
        {
            var person = people[index];
            var (id, email) = (person.AadObjectId, (string?)null);
            if (id is null && activity.ServiceUrl is { } serviceUrl && activity.TenantId is { } tenant
                && (activity.TeamId ?? activity.Conversation?.Id) is { } roster && person.Id is { } teamsId)
            {
                // A mention names the person by Teams user id (29:…); people are known by their Entra object id.
                var team = new ConversationReference
                {
                    ServiceUrl = serviceUrl,
                    TenantId = tenant,
                    TeamId = roster,
                    ConversationId = roster,
                    BotId = activity.Recipient?.Id ?? "",
                    UpdatedAt = time.GetUtcNow(),
                };
                var found = (await members.FindAsync(team, teamsId, cancellationToken)).Member;
                (id, email) = (found?.AadObjectId, found?.Email ?? found?.UserPrincipalName);
            }
            parsed = parsed with { Assignee = new UserReference(id ?? person.Id, person.Name, email) };
        }
        var reply = await handler.HandleAsync(parsed, actor, cancellationToken);
        return new TeamsCommandReply(InTeamsWords(parsed, reply.Text), reply.Cards, reply.Share || parsed.Kind == CommandKind.Help, reply.Chart);
    }

    private const string MentionPlaceholder = "teams-mention-";

    /// <summary>The command text with each person's mention as one placeholder word, collecting the people in order.</summary>
    private static string CommandText(Activity activity, List<ChannelAccount> people)
    {
        var text = activity.Text ?? "";
        foreach (var mention in activity.Entities ?? [])
        {
            if (mention.Type != "mention" || mention.Text is not { Length: > 0 } tag || mention.Mentioned is not { Id: { Length: > 0 } } who)
            {
                continue;
            }
            var replacement = who.Id == activity.Recipient?.Id ? " " : $" @{MentionPlaceholder}{people.Count} ";
            if (who.Id != activity.Recipient?.Id)
            {
                people.Add(who);
            }
            var at = text.IndexOf(tag, StringComparison.Ordinal);
            if (at >= 0)
            {
                text = string.Concat(text.AsSpan(0, at), replacement, text.AsSpan(at + tag.Length));
            }
        }
        text = MentionTag().Replace(text, m => m.Groups[1].Value);
        return WebUtility.HtmlDecode(text).Replace('\u00a0', ' ').Trim();
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

    [GeneratedRegex("<at>(.*?)</at>", RegexOptions.IgnoreCase | RegexOptions.Singleline, 100)]
    private static partial Regex MentionTag();
}
