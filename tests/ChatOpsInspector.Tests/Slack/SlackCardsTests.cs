using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Slack;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Slack;

public class SlackCardsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static AlertGroup Group(
        string title = "CVE-2024-29069 - snapd",
        string? description = "snapd before 2.62 did not check the destination of symlinks.",
        int resources = 2,
        string resourceType = ResourceTypes.Ec2Instance,
        Dictionary<string, string>? tags = null,
        WorkflowState? workflow = null,
        string vulnerabilityId = "CVE-2024-29069") => SampleGroups.Critical(
            Now, "3f9a1c2b7d", "payments", firstSeenAgo: TimeSpan.FromHours(3), slaDueIn: TimeSpan.FromHours(21), epss: 0.42,
            resources, workflow, title, description, tags, resourceType, vulnerabilityId, slackChannel: "C0123456789");

    private static string AllText(JsonArray blocks) => string.Join("\n", Texts(blocks));

    [Fact]
    public void CardShowsScoresFixOwnerSlaResourcesAndLinks()
    {
        var view = AlertCardBuilder.Build(Group(), Now);
        var blocks = SlackCards.Blocks(view, Now);
        BlockKitLimits.AssertValid(blocks);
        var header = blocks[0]!["text"]!["text"]!.GetValue<string>();
        Assert.Contains("CRITICAL", header, StringComparison.Ordinal);
        Assert.Contains("CVE-2024-29069", header, StringComparison.Ordinal);
        var json = AllText(blocks);
        foreach (var expected in new[]
        {
            "*Inspector score*\n9.8", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "*EPSS*\n42%", "*Exploit available*\n:warning: Yes",
            "*Fix*\nFix available", "snapd → 0:2.63+22.04ubuntu0.1", "owner *payments*",
            // Slack's date token (api.slack.com formatting: <!date^unix^{date_short_pretty} {time}|fallback>): each reader's own zone.
            "*SLA due*\n<!date^1795856400^{date_short_pretty} {time}|2026-11-28 09:00 UTC>\nOn track", "i-00000000000000001",
            "<https://eu-central-1.console.aws.amazon.com/inspector/v2/home?region=eu-central-1#/findings/all|Inspector console>",
            "<https://nvd.nist.gov/vuln/detail/CVE-2024-29069|CVE-2024-29069>",
        })
        {
            Assert.Contains(expected, json, StringComparison.Ordinal);
        }
        Assert.False(string.IsNullOrWhiteSpace(SlackCards.FallbackText(view)));
    }

    [Fact]
    public void NewEc2AlertOffersAcknowledgeAssignSuppressAndRequestPatch()
    {
        var view = AlertCardBuilder.Build(Group(), Now, new CardFeatures(Isolation: true, Release: true));
        var ids = Buttons(SlackCards.Blocks(view, Now)).Select(b => b["action_id"]!.GetValue<string>()).ToArray();
        Assert.Equal(["ack:3f9a1c2b7d", "assign:3f9a1c2b7d", "suppress:3f9a1c2b7d", "patch:3f9a1c2b7d", "isolate:3f9a1c2b7d"], ids);
        Assert.All(Buttons(SlackCards.Blocks(view, Now)), b => Assert.Equal("3f9a1c2b7d", b["value"]!.GetValue<string>()));
    }

    [Fact]
    public void ContainerImageAlertExplainsWhyThereIsNoPatchButton()
    {
        var view = AlertCardBuilder.Build(Group(resourceType: ResourceTypes.EcrContainerImage), Now);
        var blocks = SlackCards.Blocks(view, Now);
        Assert.DoesNotContain(Buttons(blocks), b => b["action_id"]!.GetValue<string>().StartsWith("patch:", StringComparison.Ordinal));
        Assert.Contains("Not an SSM-managed EC2 instance", AllText(blocks), StringComparison.Ordinal);
    }

    [Fact]
    public void PatchRequestedCardOffersApproveAndRejectForThatRequest()
    {
        var patch = new PatchRequest
        {
            Id = "pr-123",
            RequestedBy = new Actor("slack", "UALICE0001", "alice"),
            RequestedAt = Now,
            ExpiresAt = Now.AddHours(1),
            InstanceIds = ["i-00000000000000000"],
            PreviousState = GroupState.Acknowledged,
        };
        var view = AlertCardBuilder.Build(Group(workflow: new WorkflowState { State = GroupState.PatchRequested, Patch = patch }), Now);
        var buttons = Buttons(SlackCards.Blocks(view, Now));
        Assert.Equal(["approve:3f9a1c2b7d", "reject:3f9a1c2b7d"], buttons.Select(b => b["action_id"]!.GetValue<string>()));
        Assert.All(buttons, b => Assert.Equal("3f9a1c2b7d:pr-123", b["value"]!.GetValue<string>()));
        Assert.Equal((CardAction.ApprovePatch, "3f9a1c2b7d", "pr-123"), SlackCards.ParseButton("approve:3f9a1c2b7d", "3f9a1c2b7d:pr-123"));
    }

    [Fact]
    public void SuppressedCardOffersUnsuppressAndShowsWhoDidWhat()
    {
        var by = new Actor("slack", "USUPPRESS1", "Sam <!here>");
        var wf = new WorkflowState
        {
            State = GroupState.Suppressed,
            Suppression = new Suppression("accepted risk", Now.AddDays(30), by, Now, null, GroupState.New),
        }.Record(new HistoryEntry(Now, "Suppressed", by, "accepted risk"));
        var blocks = SlackCards.Blocks(AlertCardBuilder.Build(Group(workflow: wf), Now), Now);
        BlockKitLimits.AssertValid(blocks);
        Assert.Equal(["unsuppress:3f9a1c2b7d"], Buttons(blocks).Select(b => b["action_id"]!.GetValue<string>()));
        Assert.Contains("Suppressed by Sam &lt;!here&gt; (accepted risk)", AllText(blocks), StringComparison.Ordinal);
    }

    [Fact]
    public void HostileFindingYieldsAValidEscapedSizeBoundedCard()
    {
        var hostile = "<!channel> *pwned* <https://evil.example|click me> & <@U0BOSS> `code` ~x~ ";
        var tags = new Dictionary<string, string> { ["app"] = "<!everyone>", ["<@U1>"] = "x&y" };
        var group = Group(
            title: hostile + new string('T', 500),
            description: hostile + new string('D', 10_000),
            resources: 5_000,
            tags: tags,
            vulnerabilityId: "CVE-2099-<!channel>");
        var view = AlertCardBuilder.Build(group, Now);
        var blocks = SlackCards.Blocks(view, Now);

        BlockKitLimits.AssertValid(blocks);
        var texts = Texts(blocks).ToArray();
        Assert.Contains(texts, t => t.Contains("&lt;!channel&gt; *pwned*", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.Contains("+4990 more", StringComparison.Ordinal));
        Assert.All(texts, t => Assert.DoesNotContain("<https://evil", t, StringComparison.Ordinal));
        var fallback = SlackCards.FallbackText(view);
        Assert.DoesNotContain("<!channel>", fallback, StringComparison.Ordinal);
        Assert.InRange(fallback.Length, 1, SlackLimits.MessageText);
    }

    [Fact]
    public void AnyViewStaysWithinBlockKitLimits()
    {
        var huge = new string('<', 5000);
        var view = new AlertCardView
        {
            GroupId = new string('g', 5000),
            Owner = huge,
            VulnerabilityId = huge,
            Title = huge,
            Severity = Severity.High,
            PriorityLabel = huge,
            CvssVector = huge,
            FixAvailable = huge,
            FixedVersions = Enumerable.Repeat(huge, 50).ToArray(),
            Packages = Enumerable.Repeat(huge, 50).ToArray(),
            Description = huge,
            Remediation = huge,
            NextStep = huge,
            ShownId = huge,
            KindLabel = huge,
            ExploitLabel = huge,
            FixLabel = huge,
            PackageLines = Enumerable.Repeat(new PackageLine(huge, huge, huge), 50).ToArray(),
            MorePackages = int.MaxValue,
            Code = new CodeView(huge, huge, Enumerable.Repeat(new CardLink(huge, "https://cwe.mitre.org/" + huge), 10).ToArray()),
            Network = new NetworkView(huge, Enumerable.Repeat(new NetworkHop(huge, huge), 30).ToArray(), Enumerable.Repeat(huge, 30).ToArray(), [huge]),
            Links = Enumerable.Repeat(new CardLink(huge, "https://example.com/" + huge), 10).ToArray(),
            SlaStage = huge,
            Environment = huge,
            FirstSeenAt = Now,
            SlaDueAt = Now,
            OpenCount = int.MaxValue,
            FixedCount = 0,
            ResourceCount = int.MaxValue,
            Resources = Enumerable.Range(0, 100).Select(_ => new CardResource(huge, huge, huge, huge, huge, Enumerable.Repeat(new KeyValuePair<string, string>(huge, huge), 20).ToArray())).ToArray(),
            MoreResources = 1_000_000,
            State = GroupState.New,
            StateLabel = huge,
            StateLines = Enumerable.Repeat(huge, 100).ToArray(),
            PatchProgress = huge,
            InspectorConsoleUrl = "https://example.com/" + new string('a', 5000),
            VulnerabilityUrl = "javascript:alert(1)",
            Actions = Enum.GetValues<CardAction>().Concat(Enum.GetValues<CardAction>()).ToArray(),
            PatchUnavailableReason = huge,
            FallbackText = huge + huge,
            PatchRequestId = huge,
        };
        BlockKitLimits.AssertValid(SlackCards.Blocks(view, Now));
        var compact = new JsonArray(SlackCards.CompactBlocks(view, Now).Select(b => (JsonNode)b).ToArray());
        BlockKitLimits.AssertValid(compact);
        Assert.DoesNotContain("javascript:", SlackCards.Blocks(view, Now).ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void EscapeTruncateNeverSplitsAnEntityOrExceedsTheLimit()
    {
        for (var max = 2; max < 40; max++)
        {
            var text = SlackText.EscapeTruncate("a&b<c>d" + new string('&', 50), max);
            Assert.True(text.Length <= max, $"{text.Length} > {max}");
            BlockKitLimits.AssertNoMarkupInjection(text);
        }
        Assert.Equal("&lt;!channel&gt; &amp; co", SlackText.Escape("<!channel> & co"));
    }

    [Theory]
    [InlineData("ack:3f9a1c2b7d", "3f9a1c2b7d", nameof(CardAction.Acknowledge))]
    [InlineData("assign:3f9a1c2b7d", "3f9a1c2b7d", nameof(CardAction.Assign))]
    [InlineData("unsuppress:3f9a1c2b7d", null, nameof(CardAction.Unsuppress))]
    public void ButtonIdsCarryTheActionAndTheGroup(string actionId, string? value, string expected)
    {
        var parsed = SlackCards.ParseButton(actionId, value);
        Assert.NotNull(parsed);
        Assert.Equal(expected, parsed.Value.Action.ToString());
        Assert.Equal("3f9a1c2b7d", parsed.Value.GroupId);
    }

    [Theory]
    [InlineData("WaXA", "click_me_123")]
    [InlineData("", "x")]
    [InlineData("ack:", "")]
    public void ForeignButtonsAreNotMistakenForCardActions(string actionId, string value) =>
        Assert.Null(SlackCards.ParseButton(actionId, value));

    private static JsonObject[] Buttons(JsonArray blocks) =>
        blocks.Select(b => b!.AsObject()).Where(b => b["type"]!.GetValue<string>() == "actions")
            .SelectMany(b => b["elements"]!.AsArray().Select(e => e!.AsObject())).ToArray();

    private static IEnumerable<string> Texts(JsonNode node) => node switch
    {
        JsonObject o => o.SelectMany(p => p.Key == "text" && p.Value is JsonValue v ? [v.GetValue<string>()] : p.Value is null ? [] : Texts(p.Value)),
        JsonArray a => a.SelectMany(n => n is null ? [] : Texts(n)),
        _ => [],
    };
}
