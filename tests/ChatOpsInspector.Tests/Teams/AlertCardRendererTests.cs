using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Teams;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Teams;

public class AlertCardRendererTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    internal static AlertGroup Group(
        int resources = 1,
        WorkflowState? workflow = null,
        string title = "CVE-2024-29069 - snapd",
        string? description = "snapd before 2.62 follows symlinks.",
        Dictionary<string, string>? tags = null,
        string resourceType = "AWS_EC2_INSTANCE") => SampleGroups.Critical(
            Now, "g-0123456789abcdef", "security", firstSeenAgo: TimeSpan.FromDays(2), slaDueIn: TimeSpan.FromDays(-1), epss: 0.51,
            resources, workflow, title, description, tags, resourceType);

    internal static CardViewer Everything(AlertCardView view) => new()
    {
        Allowed = Enum.GetValues<CardAction>().ToHashSet(),
        Assignees = [new("me", "Me"), new("ana@example.com", "ana@example.com")],
        RefreshUserIds = ["8:orgid:c5e99701-2a32-49c1-a660-4629ceeb8c61"],
        PatchRequestId = "p-1",
        Today = DateOnly.FromDateTime(Now.UtcDateTime),
    };

    private static readonly Actor Ana = new("teams", "b15a9416-0ad3-4172-9210-7beb711d3f70", "Ana");

    public static TheoryData<string> States => new() { "new", "acknowledged", "suppressed", "patch_requested", "resolved" };

    [Theory]
    [MemberData(nameof(States))]
    public void CardInEveryStateValidatesAgainstAdaptiveCard15Schema(string state)
    {
        var wf = state switch
        {
            "acknowledged" => new WorkflowState { State = GroupState.Acknowledged, AcknowledgedBy = Ana, AcknowledgedAt = Now }
                .Record(new HistoryEntry(Now, "Acknowledged", Ana)),
            "suppressed" => new WorkflowState { State = GroupState.Suppressed, Suppression = new Suppression("accepted risk", Now.AddDays(30), Ana, Now, null, GroupState.New) },
            "patch_requested" => new WorkflowState
            {
                State = GroupState.PatchRequested,
                Patch = new PatchRequest { Id = "p-1", RequestedBy = Ana, RequestedAt = Now, ExpiresAt = Now.AddHours(1), InstanceIds = ["i-1"], PreviousState = GroupState.New },
            },
            "resolved" => new WorkflowState { State = GroupState.Resolved, TimeToFix = TimeSpan.FromHours(30) },
            _ => new WorkflowState(),
        };
        var view = AlertCardBuilder.Build(Group(resources: 3, workflow: wf), Now);

        var card = AlertCardRenderer.Render(view, Everything(view));

        Schemas.AssertValidCard(card);
        Assert.Equal("1.5", card["version"]!.GetValue<string>());
        Assert.Equal("refresh", card["refresh"]!["action"]!["verb"]!.GetValue<string>());
    }

    [Fact]
    public void CardShowsTheSameFactsAsTheSlackCard()
    {
        var view = AlertCardBuilder.Build(Group(resources: 12), Now);

        var json = AlertCardRenderer.Render(view, Everything(view))
            .ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

        foreach (var expected in new[] { "CRITICAL", "Inspector score", "9.8", "CVSS:3.1/AV:N", "EPSS", "51.00%", "Exploit available", "Fix available",
                     "0:2.63+22.04ubuntu0.1", "SLA due", "(breached)", "Affected resources (12)", "+2 more", "Inspector console", "nvd.nist.gov" })
        {
            Assert.Contains(expected, json, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ViewerWithoutRightsSeesOnlyTheButtonsAnyoneMayUse()
    {
        var view = AlertCardBuilder.Build(Group(), Now);
        var viewer = Everything(view) with { Allowed = new HashSet<CardAction> { CardAction.Acknowledge, CardAction.Assign, CardAction.RequestPatch } };

        var card = AlertCardRenderer.Render(view, viewer);

        var titles = card["actions"]!.AsArray().Select(a => a!["title"]!.GetValue<string>()).ToArray();
        Assert.Equal(["Acknowledge", "Assign…", "Request patch"], titles);
    }

    [Fact]
    public void SuppressFormRequiresReasonAndOffersFixedPeriodsAndADate()
    {
        var view = AlertCardBuilder.Build(Group(), Now);

        var card = AlertCardRenderer.Render(view, Everything(view));

        var suppress = card["actions"]!.AsArray().Single(a => a!["title"]!.GetValue<string>() == "Suppress…")!;
        Assert.Equal("Action.ShowCard", suppress["type"]!.GetValue<string>());
        var inputs = suppress["card"]!["body"]!.AsArray();
        Assert.True(inputs.Single(i => i!["id"]!.GetValue<string>() == "reason")!["isRequired"]!.GetValue<bool>());
        var periods = inputs.Single(i => i!["id"]!.GetValue<string>() == "expiry")!["choices"]!.AsArray().Select(c => c!["value"]!.GetValue<string>());
        Assert.Equal(["7", "30", "90"], periods);
        Assert.Equal("Input.Date", inputs.Single(i => i!["id"]!.GetValue<string>() == "expiryDate")!["type"]!.GetValue<string>());
        Assert.Equal("Action.Execute", suppress["card"]!["actions"]![0]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void FindingTextCannotBecomeALinkOrAMention()
    {
        var hostile = "[click](http://evil) <at>Boss</at> **bold** _it_ # heading &amp;";
        var view = AlertCardBuilder.Build(
            Group(title: hostile, description: "- item\n1. first\n" + hostile, tags: new() { ["[x](http://evil)"] = "<at>ceo</at>" }), Now);

        var card = AlertCardRenderer.Render(view, Everything(view));
        Schemas.AssertValidCard(card);
        var texts = AllText(card).ToArray();

        foreach (var text in texts)
        {
            Assert.DoesNotContain("<at>", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotMatch(UnescapedLink, text);
            Assert.DoesNotContain("http://evil", text, StringComparison.Ordinal);
        }
        Assert.Contains(texts, t => t.Contains(@"\[click\]\(http:\/\/evil\) &lt;at&gt;Boss&lt;/at&gt; \*\*bold\*\* \_it\_", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.Contains("\\- item\n1\\. first", StringComparison.Ordinal));
    }

    [Fact]
    public void HugeGroupStaysUnderTheTeamsMessageSizeLimit()
    {
        var bigTags = Enumerable.Range(0, 5).ToDictionary(i => $"tag-{i}-" + new string('k', 100), i => new string('v', 250));
        var view = AlertCardBuilder.Build(Group(resources: 500, description: new string('d', 5000), tags: bigTags), Now);

        var card = AlertCardRenderer.Render(view, Everything(view));

        Assert.True(Encoding.UTF8.GetByteCount(card.ToJsonString()) <= AlertCardRenderer.MaxCardBytes);
        Assert.Contains("more", card.ToJsonString(), StringComparison.Ordinal);
        Schemas.AssertValidCard(card);
    }

    [Fact]
    public void MessageCardValidatesAndEscapes()
    {
        var card = AlertCardRenderer.Message("Not allowed", "[x](http://evil) <at>a</at>", isError: true);

        Schemas.AssertValidCard(card);
        Assert.DoesNotContain("<at>", card.ToJsonString(), StringComparison.Ordinal);
    }

    private static readonly Regex UnescapedLink = new(@"(?<!\\)\[[^\]]*(?<!\\)\]\(", RegexOptions.CultureInvariant);

    internal static IEnumerable<string> AllText(JsonNode? node) => node switch
    {
        JsonObject o => o.Where(p => p.Key is "text" or "value" && p.Value is JsonValue).Select(p => p.Value!.ToString())
            .Concat(o.Where(p => p.Value is JsonObject or JsonArray).SelectMany(p => AllText(p.Value))),
        JsonArray a => a.SelectMany(AllText),
        _ => [],
    };
}
