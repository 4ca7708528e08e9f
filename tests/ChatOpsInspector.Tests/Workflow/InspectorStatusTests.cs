using System.Net;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Slack;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>
/// The card follows what Inspector reports, not what the bot last assumed: a fix that Inspector later
/// finds undone reopens the alert, and a finding suppressed in Inspector's console suppresses it here.
/// </summary>
public sealed class InspectorStatusTests(SlackApp app) : IClassFixture<SlackApp>
{
    private static readonly DateTimeOffset FirstSeen = DateTimeOffset.UtcNow.AddHours(-6);

    [Fact]
    public async Task FindingReportedOpenAgainAfterVerifiedFixReopensTheGroupAndItsCard()
    {
        var (cve, findingId, groupId) = await CardPostedAsync();

        await SendAsync(findingId, cve, "CLOSED", FirstSeen.AddHours(1));
        // A resolved card leads with how long the fix took ("Fixed in 3 d · verified <date>").
        await app.UpdateContainingAsync(groupId, "*Fixed in ");
        Assert.Equal(GroupState.Resolved, (await GroupAsync(groupId)).Workflow.State);

        var updatesBefore = Updates(groupId);
        await SendAsync(findingId, cve, "ACTIVE", FirstSeen.AddHours(2));

        await TestApp.Eventually(async () => (await GroupAsync(groupId)).Workflow.State != GroupState.Resolved, "group reopened");
        var group = await GroupAsync(groupId);
        Assert.Equal(GroupState.New, group.Workflow.State);
        Assert.Equal(1, group.Workflow.ReopenCount);
        Assert.Null(group.Workflow.ResolvedAt);
        await TestApp.Eventually(() => Task.FromResult(Updates(groupId) > updatesBefore), "card updated after the reopen");
        var card = app.Slack.Calls("chat.update").Last(u => u.ToJsonString().Contains(groupId, StringComparison.Ordinal)).ToJsonString();
        Assert.DoesNotContain("Fixed in ", card, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindingSuppressedInInspectorSuppressesTheGroupAndItsCard()
    {
        var (cve, findingId, groupId) = await CardPostedAsync();

        await SendAsync(findingId, cve, "SUPPRESSED", FirstSeen.AddHours(1));

        await TestApp.Eventually(async () => (await GroupAsync(groupId)).Workflow.State == GroupState.Suppressed, "group suppressed");
        var group = await GroupAsync(groupId);
        Assert.Equal("Suppressed in Inspector", group.Workflow.Suppression!.Reason);
        Assert.Equal(Actor.System.UserId, group.Workflow.Suppression.By.UserId);
        await app.UpdateContainingAsync(groupId, "Suppressed");
    }

    private async Task<(string Cve, string FindingId, string GroupId)> CardPostedAsync()
    {
        var cve = SlackApp.NewCve();
        var findingId = Guid.NewGuid().ToString("n");
        await SendAsync(findingId, cve, "ACTIVE", FirstSeen);
        var groupId = GroupIds.For("payments", cve);
        await TestApp.Eventually(async () => (await app.App.Service<IAlertStore>().GetGroupAsync(groupId, default))?.Cards.ContainsKey("slack") == true,
            $"card for {cve} posted");
        return (cve, findingId, groupId);
    }

    private async Task SendAsync(string findingId, string cve, string status, DateTimeOffset updatedAt)
    {
        var evt = FindingEvents.Ec2(findingId, cve: cve, status: status, instanceId: "i-0b0b0b0b0b0b0b0b0", updatedAt: updatedAt,
            tags: new Dictionary<string, string> { ["app"] = "payments" });
        Assert.Equal(HttpStatusCode.Accepted, (await app.App.PostEventsAsync(evt.ToJsonString())).StatusCode);
    }

    private async Task<AlertGroup> GroupAsync(string groupId) =>
        await app.App.Service<IAlertStore>().GetGroupAsync(groupId, default) ?? throw new InvalidOperationException($"no group {groupId}");

    private int Updates(string groupId) =>
        app.Slack.Calls("chat.update").Count(u => u.ToJsonString().Contains(groupId, StringComparison.Ordinal));
}
