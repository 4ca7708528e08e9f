using System.Text.Json.Nodes;
using ChatOpsInspector.Slack;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>Checks Slack's documented Block Kit limits on a message's blocks.</summary>
public static class BlockKitLimits
{
    public static void AssertValid(JsonArray blocks)
    {
        Assert.InRange(blocks.Count, 1, 50);
        foreach (var block in blocks.Select(b => b!.AsObject()))
        {
            var type = block["type"]!.GetValue<string>();
            switch (type)
            {
                case "header":
                    AssertText(block["text"], "plain_text", 150);
                    break;
                case "section":
                    Assert.True(block["text"] is not null || block["fields"] is not null, "section needs text or fields");
                    if (block["text"] is { } text)
                    {
                        AssertText(text, null, 3000);
                    }
                    if (block["fields"] is JsonArray fields)
                    {
                        Assert.InRange(fields.Count, 1, 10);
                        foreach (var field in fields)
                        {
                            AssertText(field, null, 2000);
                        }
                    }
                    break;
                case "context":
                    var elements = block["elements"]!.AsArray();
                    Assert.InRange(elements.Count, 1, 10);
                    foreach (var element in elements)
                    {
                        AssertText(element, null, 3000);
                    }
                    break;
                case "actions":
                    var buttons = block["elements"]!.AsArray();
                    Assert.InRange(buttons.Count, 1, 25);
                    var ids = new HashSet<string>();
                    foreach (var button in buttons.Select(b => b!.AsObject()))
                    {
                        Assert.Equal("button", button["type"]!.GetValue<string>());
                        AssertText(button["text"], "plain_text", 75);
                        var actionId = button["action_id"]!.GetValue<string>();
                        Assert.InRange(actionId.Length, 1, 255);
                        Assert.True(ids.Add(actionId), $"duplicate action_id {actionId}");
                        Assert.InRange(button["value"]!.GetValue<string>().Length, 1, 2000);
                    }
                    break;
                case "divider":
                    break;
                default:
                    Assert.Fail($"unexpected block type {type}");
                    break;
            }
        }
    }

    private static void AssertText(JsonNode? node, string? type, int max)
    {
        Assert.NotNull(node);
        var kind = node!["type"]!.GetValue<string>();
        Assert.Contains(kind, new[] { "plain_text", "mrkdwn" });
        if (type is not null)
        {
            Assert.Equal(type, kind);
        }
        var text = node["text"]!.GetValue<string>();
        Assert.InRange(text.Length, 1, max);
        AssertNoMarkupInjection(text);
    }

    /// <summary>
    /// The only '&lt;' left in text starts a link the bot made itself or its own date token
    /// (<c>&lt;!date^1764320400^{date_short_pretty} {time}|2026-11-28 09:00 UTC&gt;</c>, Slack's "Formatting text" docs).
    /// </summary>
    public static void AssertNoMarkupInjection(string text)
    {
        for (var i = text.IndexOf('<', StringComparison.Ordinal); i >= 0; i = text.IndexOf('<', i + 1))
        {
            Assert.True(text.AsSpan(i).StartsWith("<https://", StringComparison.Ordinal) || DateToken.Match(text, i) is { Success: true } m && m.Index == i,
                $"unescaped '<' in: {Clip(text, i)}");
        }
        Assert.DoesNotContain("<@", text, StringComparison.Ordinal);
        Assert.Equal(text.Split("<!").Length - 1, DateToken.Count(text));
        // No half entity at a cut.
        var amp = text.LastIndexOf('&');
        if (amp >= 0)
        {
            var tail = text[amp..];
            Assert.True(tail.StartsWith("&amp;", StringComparison.Ordinal) || tail.StartsWith("&lt;", StringComparison.Ordinal) || tail.StartsWith("&gt;", StringComparison.Ordinal),
                $"broken entity at the end: {Clip(text, amp)}");
        }
    }

    private static readonly System.Text.RegularExpressions.Regex DateToken =
        new(@"<!date\^\d{1,12}\^\{date_short_pretty\} \{time\}\|\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC>", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private static string Clip(string text, int at) => text.Substring(Math.Max(0, at - 20), Math.Min(60, text.Length - Math.Max(0, at - 20)));
}
