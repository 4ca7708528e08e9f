using System.Text.Json.Nodes;
using ChatOpsInspector.Commands;

namespace ChatOpsInspector.Slack;

/// <summary>Renders command replies and notices as Slack messages (for responses, response_urls and threads).</summary>
internal static class SlackReplies
{
    public static string Text(CommandReply reply) =>
        SlackText.EscapeTruncate((reply.IsError ? ":warning: " : "") + reply.Text, SlackLimits.SectionText);

    public static JsonArray Blocks(CommandReply reply, DateTimeOffset now)
    {
        var blocks = new JsonArray(SlackCards.Section(Text(reply)));
        if (reply.Cards.Count == 1)
        {
            // One alert gets the full card (about ten blocks); lists get two blocks per alert.
            foreach (var block in SlackCards.Blocks(reply.Cards[0], now).ToArray())
            {
                blocks.Add(block!.DeepClone());
            }
            return blocks;
        }
        foreach (var card in reply.Cards.Take(SlackCards.MaxCompactCards))
        {
            blocks.Add(new JsonObject { ["type"] = "divider" });
            foreach (var block in SlackCards.CompactBlocks(card, now))
            {
                blocks.Add(block);
            }
        }
        return blocks;
    }

    /// <summary>A slash-command response or response_url message.</summary>
    public static JsonObject Message(CommandReply reply, DateTimeOffset now) => new()
    {
        ["response_type"] = reply.Share ? "in_channel" : "ephemeral",
        ["replace_original"] = false,
        ["text"] = Text(reply),
        ["blocks"] = Blocks(reply, now),
    };

    /// <summary>A private line of plain text (escaped here) for the person who clicked or typed.</summary>
    public static JsonObject Ephemeral(string text) => new()
    {
        ["response_type"] = "ephemeral",
        ["replace_original"] = false,
        ["text"] = SlackText.EscapeTruncate(text, SlackLimits.SectionText),
    };
}
