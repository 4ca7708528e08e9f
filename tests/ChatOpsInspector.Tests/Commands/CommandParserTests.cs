using ChatOpsInspector.Commands;

namespace ChatOpsInspector.Tests.Commands;

public class CommandParserTests
{
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("help")]
    [InlineData("HELP")]
    public void EmptyOrHelpAsksForHelp(string text) => Assert.Equal(CommandKind.Help, CommandParser.Parse(text).Kind);

    [Theory]
    [InlineData("vulns my-app")]
    [InlineData("/vulns my-app")]
    [InlineData("VULNS my-app")]
    public void TypedMessagesMayStartWithVulns(string text)
    {
        var parsed = CommandParser.Parse(text);
        Assert.Equal(CommandKind.Owner, parsed.Kind);
        Assert.Equal("my-app", parsed.Owner);
    }

    [Fact]
    public void BareNameListsThatOwner()
    {
        var parsed = CommandParser.Parse("my-app");
        Assert.Equal(CommandKind.Owner, parsed.Kind);
        Assert.Equal("my-app", parsed.Owner);
        Assert.False(parsed.Share);
    }

    [Fact]
    public void AppNameFollowedByAnotherWordNamesTheUnexpectedWord()
    {
        var parsed = CommandParser.Parse("my-app xxx");

        Assert.Equal(CommandKind.Invalid, parsed.Kind);
        Assert.StartsWith("Unexpected `xxx` after `my-app`", parsed.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("I don't know", parsed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ShareFlagMayComeAnywhere()
    {
        Assert.True(CommandParser.Parse("--share my-app").Share);
        Assert.True(CommandParser.Parse("stats payments --share").Share);
        Assert.Equal("payments", CommandParser.Parse("stats --share payments").Owner);
    }

    [Theory]
    [InlineData("mine", nameof(CommandKind.Mine))]
    [InlineData("sla", nameof(CommandKind.Sla))]
    [InlineData("stats", nameof(CommandKind.Stats))]
    [InlineData("coverage", nameof(CommandKind.Coverage))]
    public void SubcommandsWithoutArgumentsParse(string text, string kind) => Assert.Equal(kind, CommandParser.Parse(text).Kind.ToString());

    [Fact]
    public void ShowTakesACveOrAGroupId()
    {
        Assert.Equal("CVE-2024-6119", CommandParser.Parse("show CVE-2024-6119").Target);
        Assert.Equal("3f9a1c2b7d", CommandParser.Parse("show 3f9a1c2b7d").Target);
    }

    [Fact]
    public void AssignTakesASlackMention()
    {
        var parsed = CommandParser.Parse("assign 3f9a1c2b7d <@U0BOB1234|bob>");
        Assert.Equal(CommandKind.Assign, parsed.Kind);
        Assert.Equal(new UserReference("U0BOB1234", "bob", null), parsed.Assignee);
        Assert.Equal(new UserReference("U0BOB1234", null, null), CommandParser.Parse("assign 3f9a1c2b7d <@U0BOB1234>").Assignee);
        Assert.Equal(new UserReference(null, null, "bob@example.com"), CommandParser.Parse("assign 3f9a1c2b7d <mailto:bob@example.com|bob@example.com>").Assignee);
    }

    [Fact]
    public void SuppressTakesDurationOrDateAndAReason()
    {
        var parsed = CommandParser.Parse("suppress 3f9a1c2b7d 30d accepted risk until Q1");
        Assert.Equal(CommandKind.Suppress, parsed.Kind);
        Assert.Equal(TimeSpan.FromDays(30), parsed.SuppressFor);
        Assert.Equal("accepted risk until Q1", parsed.Reason);
        Assert.Equal(TimeSpan.FromDays(14), CommandParser.Parse("suppress 3f9a1c2b7d 2w x").SuppressFor);
        var dated = CommandParser.Parse("suppress 3f9a1c2b7d 2027-01-31 compensating control");
        Assert.Equal(new DateTimeOffset(2027, 1, 31, 23, 59, 59, TimeSpan.Zero), dated.SuppressUntil!.Value.AddTicks(-9_999_999));
    }

    [Fact]
    public void AckAndPatchTakeOneId()
    {
        Assert.Equal(CommandKind.Acknowledge, CommandParser.Parse("ack 3f9a1c2b7d").Kind);
        Assert.Equal(CommandKind.RequestPatch, CommandParser.Parse("patch 3f9a1c2b7d").Kind);
    }

    [Theory]
    [InlineData("frobnicate the thing", "help")]
    [InlineData("show", "show CVE-…|ID")]
    [InlineData("show a b", "show CVE-…|ID")]
    [InlineData("show <script>", "show CVE-…|ID")]
    [InlineData("ack", "ack ID")]
    [InlineData("assign 3f9a1c2b7d", "assign ID @person")]
    [InlineData("assign 3f9a1c2b7d not-a-person", "assign ID @person")]
    [InlineData("suppress 3f9a1c2b7d", "suppress ID 7d|30d|90d|YYYY-MM-DD reason…")]
    [InlineData("suppress 3f9a1c2b7d forever because", "suppress ID 7d|30d|90d|YYYY-MM-DD reason…")]
    [InlineData("suppress 3f9a1c2b7d 400d because", "suppress ID 7d|30d|90d|YYYY-MM-DD reason…")]
    [InlineData("suppress 3f9a1c2b7d 0d because", "suppress ID 7d|30d|90d|YYYY-MM-DD reason…")]
    [InlineData("mine please", "mine")]
    [InlineData("stats a b", "stats [NAME]")]
    public void BadArgumentsExplainTheUsage(string text, string usage)
    {
        var parsed = CommandParser.Parse(text);
        Assert.Equal(CommandKind.Invalid, parsed.Kind);
        Assert.Equal(usage, parsed.Usage);
        Assert.False(string.IsNullOrWhiteSpace(parsed.Error));
    }

    [Fact]
    public void SubcommandNamesAreNotOwners() => Assert.Equal(CommandKind.Mine, CommandParser.Parse("mine").Kind);
}
