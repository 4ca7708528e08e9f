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
internal sealed partial class TeamsCommands(CommandHandler handler)
{
    public const int MaxCards = 3;

    public async Task<TeamsCommandReply> RunAsync(string text, Actor actor, CancellationToken cancellationToken)
    {
        var command = CommandParser.Parse(text);
        var reply = await handler.HandleAsync(command, actor, cancellationToken);
        return new TeamsCommandReply(reply.Text, reply.Cards, reply.Share || command.Kind == CommandKind.Help, reply.Chart);
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
