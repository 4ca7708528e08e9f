using ChatOpsInspector.Findings;
using ChatOpsInspector.Routing;
using ChatOpsInspector.Sla;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>Which history entries become thread notes, what they say and whom they mention.</summary>
public sealed class WorkflowNotifierTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly Actor Ana = new("slack", "UANA000001", "Ana Alvarez", "ana@example.com");
    private static readonly Actor Dee = new("teams", "0f1e2d3c-0000-4000-8000-000000000dee", "Dee Developer");
    private static readonly OwnerRoute Route = new("payments", "C0PAYMENTS1", null, ["UAPPROVER1, oncall@example.com"], [], [], "prod", "rule 0");

    [Fact]
    public void VerifiedFixedMentionsTheAssigneeByEveryIdSoEachPlatformCanAddressThem()
    {
        var group = SampleGroups.Critical(Now, "g1", "payments", TimeSpan.FromHours(3), TimeSpan.FromHours(21), 0.9,
            workflow: new WorkflowState { State = GroupState.Resolved, AssignedTo = Ana });
        var entry = new HistoryEntry(Now, "Verified fixed", Actor.System, "1 finding(s) closed by Inspector; time to fix 3 h");

        var note = WorkflowNotifier.Note(group, entry, Route)!;

        Assert.Equal("CVE-2024-29069 is verified fixed: 1 finding(s) closed by Inspector; time to fix 3 h.", note.Text);
        Assert.Equal(["UANA000001", "ana@example.com"], note.Mentions);
        Assert.Equal("Ana Alvarez", note.Names!["ana@example.com"]);
    }

    [Fact]
    public void ReopenedWithNobodyAssignedMentionsTheOwnersApprovers()
    {
        var group = SampleGroups.Critical(Now, "g1", "payments", TimeSpan.FromHours(3), TimeSpan.FromHours(21), 0.9);

        var note = WorkflowNotifier.Note(group, new HistoryEntry(Now, "Reopened", Actor.System, "1 finding(s) open again"), Route)!;

        Assert.StartsWith("CVE-2024-29069 is open again", note.Text, StringComparison.Ordinal);
        Assert.Equal(["UAPPROVER1", "oncall@example.com"], note.Mentions);
    }

    [Fact]
    public void ChangesThatAreNotNewsAreNotAnnounced()
    {
        var group = SampleGroups.Critical(Now, "g1", "payments", TimeSpan.FromHours(3), TimeSpan.FromHours(21), 0.9);

        Assert.Null(WorkflowNotifier.Note(group, new HistoryEntry(Now, "Acknowledged", Dee), Route));
        Assert.Null(WorkflowNotifier.Note(group, new HistoryEntry(Now, "SLA breached", Actor.System), Route));
    }

    [Theory]
    [InlineData("Digest", "MarkBreached")]
    [InlineData("Escalate", "Escalate")]
    public void BelowThresholdGroupThatBreachesEscalatesOrWaitsForTheDigestAsConfigured(string configured, string expectedStep)
    {
        var setting = Enum.Parse<BelowThresholdBreach>(configured);
        var expected = Enum.Parse<SlaStepKind>(expectedStep);
        var group = SampleGroups.Critical(Now, "g1", "payments", TimeSpan.FromHours(30), TimeSpan.FromHours(-6), 0.9);
        group = group with { Meta = group.Meta with { Alerting = false } };

        var step = new SlaStages(new SlaOptions { BelowThresholdBreach = setting }).Decide(group, SlaStages.Escalation, Now);

        Assert.Equal(expected, step.Kind);
    }

    [Fact]
    public void EscalationIsBroadcastToTheChannelAndRemindersWithoutAssigneeMentionApprovers()
    {
        var group = SampleGroups.Critical(Now, "g1", "payments", TimeSpan.FromHours(30), TimeSpan.FromHours(-6), 0.9);

        var escalation = SlaScheduler.EscalationNote(group, Route, Now);
        var reminder = SlaScheduler.ReminderNote(group, Route, 50, Now);

        Assert.True(escalation.Broadcast);
        Assert.False(reminder.Broadcast);
        Assert.Equal(["UAPPROVER1", "oncall@example.com"], reminder.Mentions);
    }
}
