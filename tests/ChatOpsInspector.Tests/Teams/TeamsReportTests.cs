using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Sla;

namespace ChatOpsInspector.Tests.Teams;

/// <summary>
/// <c>vulns report</c> in Teams: the figures as text, then an Adaptive Card whose Image carries the chart as a
/// data URI — which the Image element's url accepts from schema 1.2 on
/// (https://learn.microsoft.com/en-us/adaptive-cards/schema-explorer/image). Teams shows card images up to
/// 1024×1024 px and does not count base64 images against the bot message size limit
/// (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages).
/// </summary>
public sealed class TeamsReportTests : IAsyncLifetime
{
    private BotFramework _bf = null!;

    public async Task InitializeAsync() => _bf = await BotFramework.StartAsync();

    public async Task DisposeAsync() => await _bf.DisposeAsync();

    private RecordedRequest[] Posts() => _bf.Connector.Requests.Where(r => r.Method == "POST" && r.Path.StartsWith("/v3/conversations/", StringComparison.Ordinal)).ToArray();

    [Fact]
    public async Task ReportAnswersWithTheFiguresAndACardHoldingTheChart()
    {
        await using var app = new TestApp(_bf.Settings());
        // The channel of the mention is the security team's: its owner is "security".
        await ComplianceSeed.NovemberAsync(app, payments: "security", security: "other");
        var before = Posts().Length;

        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(app, _bf.ChannelMention("vulns report security 2026-11"))).StatusCode);

        await TestApp.Eventually(() => Task.FromResult(Posts().Length >= before + 2), "text and chart");
        var replies = Posts().Skip(before).Select(r => JsonNode.Parse(r.Body)!).ToArray();
        // Teams markdown: the text is escaped, so undo the backslashes to read the figures.
        var text = replies[0]["text"]!.GetValue<string>().Replace("\\", "", StringComparison.Ordinal);
        Assert.Contains("SLA met 50 % (2 of 4)", text, StringComparison.Ordinal);
        Assert.Contains("security CRITICAL: 3 alerts (3 findings), SLA met 33.3 % (1 of 3)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("other", text, StringComparison.Ordinal);
        var card = replies[1]["attachments"]![0]!["content"]!;
        Schemas.AssertValidCard(card);
        var image = card["body"]!.AsArray().Single(e => e!["type"]!.GetValue<string>() == "Image")!;
        var url = image["url"]!.GetValue<string>();
        Assert.StartsWith("data:image/png;base64,", url, StringComparison.Ordinal);
        Assert.Equal((800, 400), PngImage.Size(Convert.FromBase64String(url["data:image/png;base64,".Length..])));
        Assert.Contains("CRITICAL 33.3 % (1 of 3)", image["altText"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelpNamesTheReport()
    {
        await using var app = new TestApp(_bf.Settings());
        var before = Posts().Length;

        await _bf.SendAsync(app, _bf.ChannelMention("help"));

        await TestApp.Eventually(() => Task.FromResult(Posts().Length > before), "help");
        var help = JsonNode.Parse(Posts()[before].Body)!["text"]!.GetValue<string>().Replace("\\", "", StringComparison.Ordinal);
        Assert.Contains("report [NAME] [YYYY-MM]", help, StringComparison.Ordinal);
    }
}
