using System.Text;
using System.Text.Json.Nodes;
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

        foreach (var expected in new[] { "CRITICAL", "Score 9.8", "CVSS 9.8 CVSS:3.1/AV:N", "EPSS 51%", "Exploit available", "Fix available",
                     "0:2.63+22.04ubuntu0.1", "SLA due {{DATE(2026-11-26T12:00:00Z, SHORT)}} {{TIME(2026-11-26T12:00:00Z)}} · Overdue by 1 d",
                     "Where (12)", "+2 more", "Console", "nvd.nist.gov" })
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
        Assert.Equal(["Ack", "Assign", "Patch"], titles);
    }

    [Fact]
    public void SuppressFormRequiresReasonAndOffersFixedPeriodsAndADate()
    {
        var view = AlertCardBuilder.Build(Group(), Now);

        var card = AlertCardRenderer.Render(view, Everything(view));

        var suppress = card["actions"]!.AsArray().Single(a => a!["title"]!.GetValue<string>() == "Suppress")!;
        Assert.Equal("Action.ShowCard", suppress["type"]!.GetValue<string>());
        var inputs = suppress["card"]!["body"]!.AsArray();
        Assert.True(inputs.Single(i => i!["id"]!.GetValue<string>() == "reason")!["isRequired"]!.GetValue<bool>());
        var periods = inputs.Single(i => i!["id"]!.GetValue<string>() == "expiry")!["choices"]!.AsArray().Select(c => c!["value"]!.GetValue<string>());
        Assert.Equal(["7", "30", "90"], periods);
        Assert.Equal("Input.Date", inputs.Single(i => i!["id"]!.GetValue<string>() == "expiryDate")!["type"]!.GetValue<string>());
        Assert.Equal("Action.Execute", suppress["card"]!["actions"]![0]!["type"]!.GetValue<string>());
    }

    /// <summary>
    /// Adaptive Cards read markdown in TextBlocks and FactSets but never in a RichTextBlock's TextRuns
    /// (learn.microsoft.com/adaptive-cards "Text features"; TextRun: "Markdown is not supported"). Finding
    /// text goes only into TextRuns, as written: it cannot become a link or emphasis, and there is no
    /// backslash or HTML entity for Teams' mobile markdown parser to show.
    /// </summary>
    [Fact]
    public void FindingTextIsShownAsWrittenInTextRunsAndNeverReadAsMarkdown()
    {
        var hostile = "[click](http://evil) <at>Boss</at> **bold** _it_ # heading R&D <b>x</b>";
        var view = AlertCardBuilder.Build(
            Group(title: hostile, description: "- item\n1. first\n" + hostile, tags: new() { ["[x](http://evil)"] = "<at>ceo</at>" }), Now);

        var card = AlertCardRenderer.Render(view, Everything(view));
        Schemas.AssertValidCard(card);

        foreach (var markdown in MarkdownTexts(card))
        {
            Assert.DoesNotContain("evil", markdown, StringComparison.Ordinal);
            Assert.DoesNotContain("<at>", markdown, StringComparison.Ordinal);
            Assert.DoesNotContain("R&D", markdown, StringComparison.Ordinal);
        }
        var runs = TextRuns(card).ToArray();
        Assert.Contains(runs, r => r.Contains(hostile, StringComparison.Ordinal));
        Assert.Contains(runs, r => r.StartsWith("- item\n1. first\n" + hostile, StringComparison.Ordinal));
        Assert.Contains(runs, r => r == "[x](http://evil)=<at>ceo</at>");
        Assert.All(AllText(card), t =>
        {
            Assert.DoesNotContain("\\[", t, StringComparison.Ordinal);
            Assert.DoesNotContain("\\_", t, StringComparison.Ordinal);
            Assert.DoesNotContain("&amp;", t, StringComparison.Ordinal);
            Assert.DoesNotContain("&lt;", t, StringComparison.Ordinal);
        });
        // No mention entities: "<at>" in a TextRun is text, not a mention.
        Assert.Null(card["msteams"]);
    }

    [Fact]
    public void AmpersandsReachTheReaderOnceNotAsAmpAmp()
    {
        var view = AlertCardBuilder.Build(Group(title: "CVE-2024-29069 - R&D tools", description: "apt-get update && apt-get upgrade"), Now);

        var json = AlertCardRenderer.Render(view, Everything(view)).ToJsonString(new System.Text.Json.JsonSerializerOptions
            { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

        Assert.Contains("R&D tools", json, StringComparison.Ordinal);
        Assert.Contains("apt-get update && apt-get upgrade", json, StringComparison.Ordinal);
        Assert.DoesNotContain("&amp;", json, StringComparison.Ordinal);
        var message = AlertCardRenderer.Message("R&D", "a && b").ToJsonString(new System.Text.Json.JsonSerializerOptions
            { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        Assert.Contains("a && b", message, StringComparison.Ordinal);
        Assert.DoesNotContain("&amp;", message, StringComparison.Ordinal);
    }

    [Fact]
    public void AtMostThreeButtonsShowTheRestGoToTheOverflowMenu()
    {
        // Isolate is offered only where an isolation runbook is configured; with it the card has five actions.
        var view = AlertCardBuilder.Build(Group(resources: 2), Now, new CardFeatures(Isolation: true, Release: true));

        var actions = AlertCardRenderer.Render(view, Everything(view))["actions"]!.AsArray();

        Assert.Equal(["Ack", "Assign", "Suppress", "Patch", "Isolate"], actions.Select(a => a!["title"]!.GetValue<string>()));
        Assert.Equal(3, actions.Count(a => a!["mode"] is null));
        Assert.All(actions.Skip(3), a => Assert.Equal("secondary", a!["mode"]!.GetValue<string>()));
        // Three labels of at most 10 characters fit a 360 px phone without "Ac…".
        Assert.All(actions, a => Assert.InRange(a!["title"]!.GetValue<string>().Length, 1, 10));
    }

    [Fact]
    public void ResolvedCardIsGreenSaysHowLongTheFixTookAndHasNoCountdown()
    {
        var wf = new WorkflowState { State = GroupState.Resolved, ResolvedAt = Now, TimeToFix = TimeSpan.FromHours(3) };
        var card = AlertCardRenderer.Render(AlertCardBuilder.Build(Group(workflow: wf), Now), Everything(AlertCardBuilder.Build(Group(workflow: wf), Now)));

        Assert.Equal("good", card["body"]![0]!["style"]!.GetValue<string>());
        var texts = AllText(card).ToArray();
        Assert.Contains("Fixed in 3 h", texts);
        Assert.DoesNotContain(texts, t => t.Contains("SLA due", StringComparison.Ordinal) || t.Contains("Overdue", StringComparison.Ordinal));
        Assert.Null(card["actions"]);
    }

    [Fact]
    public void SuppressedCardIsPlainSaysUntilWhenByWhomAndWhyWithNoCountdown()
    {
        var until = Now.AddDays(30);
        var wf = new WorkflowState { State = GroupState.Suppressed, Suppression = new Suppression("compensating WAF rule", until, Ana, Now, null, GroupState.New) };
        var view = AlertCardBuilder.Build(Group(workflow: wf), Now);
        var card = AlertCardRenderer.Render(view, Everything(view));

        Assert.Equal("default", card["body"]![0]!["style"]!.GetValue<string>());
        var texts = AllText(card).ToArray();
        Assert.Contains("Suppressed until {{DATE(2026-12-27T12:00:00Z, SHORT)}} {{TIME(2026-12-27T12:00:00Z)}}", texts);
        Assert.Contains("Ana", texts);
        Assert.Contains("compensating WAF rule", texts);
        Assert.DoesNotContain(texts, t => t.Contains("SLA due", StringComparison.Ordinal) || t.Contains("Overdue", StringComparison.Ordinal));
        Assert.Equal(["Unsuppress"], card["actions"]!.AsArray().Select(a => a!["title"]!.GetValue<string>()));
    }

    [Fact]
    public void BreachedCardIsRedAndSaysHowLongItIsOverdue()
    {
        var view = AlertCardBuilder.Build(SampleGroups.Critical(Now, "g-breached", "security", TimeSpan.FromDays(3), -TimeSpan.FromHours(52), 0.1), Now);
        var card = AlertCardRenderer.Render(view, Everything(view));

        Assert.Equal("attention", card["body"]![0]!["style"]!.GetValue<string>());
        Assert.Contains(AllText(card), t => t.EndsWith("· Overdue by 2 d 4 h", StringComparison.Ordinal));
    }

    [Fact]
    public void AcknowledgedAndPatchingCardsLookInProgress()
    {
        foreach (var wf in new[]
        {
            new WorkflowState { State = GroupState.Acknowledged, AcknowledgedBy = Ana, AcknowledgedAt = Now },
            new WorkflowState { State = GroupState.Patching },
        })
        {
            var view = AlertCardBuilder.Build(SampleGroups.Critical(Now, "g-progress", "security", TimeSpan.FromHours(1), TimeSpan.FromHours(23), 0.1, workflow: wf), Now);
            var card = AlertCardRenderer.Render(view, Everything(view));
            Assert.Equal("accent", card["body"]![0]!["style"]!.GetValue<string>());
            Assert.Contains(AllText(card), t => t.EndsWith("· On track", StringComparison.Ordinal));
        }
    }

    internal static IEnumerable<string> MarkdownTexts(JsonNode? node) => node switch
    {
        JsonObject o when o["type"]?.GetValue<string>() == "TextBlock" => [o["text"]!.GetValue<string>()],
        JsonObject o when o["type"]?.GetValue<string>() == "FactSet" =>
            o["facts"]!.AsArray().SelectMany(f => new[] { f!["title"]!.GetValue<string>(), f["value"]!.GetValue<string>() }),
        JsonObject o => o.SelectMany(p => MarkdownTexts(p.Value)),
        JsonArray a => a.SelectMany(MarkdownTexts),
        _ => [],
    };

    internal static IEnumerable<string> TextRuns(JsonNode? node) => node switch
    {
        JsonObject o when o["type"]?.GetValue<string>() == "TextRun" => [o["text"]!.GetValue<string>()],
        JsonObject o => o.SelectMany(p => TextRuns(p.Value)),
        JsonArray a => a.SelectMany(TextRuns),
        _ => [],
    };

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
    public void MessageCardShowsItsTextAsWritten()
    {
        var card = AlertCardRenderer.Message("Not allowed", "[x](http://evil) <at>a</at>", isError: true);

        Schemas.AssertValidCard(card);
        Assert.Empty(MarkdownTexts(card));
        Assert.Contains("[x](http://evil) <at>a</at>", TextRuns(card));
    }

    internal static IEnumerable<string> AllText(JsonNode? node) => node switch
    {
        JsonObject o => o.Where(p => p.Key is "text" or "value" && p.Value is JsonValue).Select(p => p.Value!.ToString())
            .Concat(o.Where(p => p.Value is JsonObject or JsonArray).SelectMany(p => AllText(p.Value))),
        JsonArray a => a.SelectMany(AllText),
        _ => [],
    };
}
