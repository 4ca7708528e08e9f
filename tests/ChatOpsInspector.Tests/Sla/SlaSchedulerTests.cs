using ChatOpsInspector.Findings;
using ChatOpsInspector.Sla;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Sla;

public sealed class SlaSchedulerTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 6, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(30);

    [Fact]
    public async Task RemindersAtHalfAndNinetyPercentAndEscalationAtBreachFireOnceWithTwoInstances()
    {
        await using var rig = new SlaRig(redis, Start);
        var a = rig.StartNode();
        var b = rig.StartNode();
        var group = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-0001", Severity.Critical, Start, slaHours: 24);

        await rig.RunUntilAsync(Start.AddHours(30), Step);

        var notes = rig.NotesFor(group);
        Assert.Collection(notes,
            n => Assert.Contains("50 %", n.Message.Text),
            n => Assert.Contains("90 %", n.Message.Text),
            n => Assert.StartsWith("SLA breached", n.Message.Text));
        // The first pass after each point (the clock moves in 30-minute steps).
        FiredOnFirstPassAfter(Start.AddHours(12), notes[0]);
        FiredOnFirstPassAfter(Start.AddHours(21.6), notes[1]);
        FiredOnFirstPassAfter(Start.AddHours(24), notes[2]);
        Assert.All(notes, n => Assert.StartsWith("sla:" + group + ":", n.Id));
    }

    [Fact]
    public async Task AcknowledgedGroupIsRemindedOnlyAtNinetyPercentAndEscalatedAtBreach()
    {
        await using var rig = new SlaRig(redis, Start);
        rig.StartNode();
        rig.StartNode();
        var group = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-0002", Severity.Critical, Start, slaHours: 24);
        await rig.RunUntilAsync(Start.AddHours(1), Step);
        await rig.AcknowledgeAsync(group);

        await rig.RunUntilAsync(Start.AddHours(30), Step);

        Assert.Collection(rig.NotesFor(group),
            n =>
            {
                Assert.Contains("90 %", n.Message.Text);
                Assert.Contains("Acknowledged by Dana Dev", n.Message.Text);
            },
            n => Assert.StartsWith("SLA breached", n.Message.Text));
    }

    [Fact]
    public async Task ResolvedGroupGetsNoMoreReminders()
    {
        await using var rig = new SlaRig(redis, Start);
        rig.StartNode();
        rig.StartNode();
        var group = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-0003", Severity.Critical, Start, slaHours: 24);
        await rig.RunUntilAsync(Start.AddHours(13), Step);
        Assert.Single(rig.NotesFor(group));

        await rig.ResolveAsync(SlaRig.Payments, "CVE-2026-0003", Severity.Critical, Start, slaHours: 24);
        await rig.RunUntilAsync(Start.AddHours(48), Step);

        Assert.Single(rig.NotesFor(group));
        Assert.False((await rig.GroupAsync(group)).Workflow.SlaBreached);
    }

    [Fact]
    public async Task SuppressedGroupGetsNoReminders()
    {
        await using var rig = new SlaRig(redis, Start);
        rig.StartNode();
        rig.StartNode();
        var group = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-0004", Severity.Critical, Start, slaHours: 24);
        await rig.RunUntilAsync(Start.AddHours(1), Step);
        await rig.SuppressAsync(group);

        await rig.RunUntilAsync(Start.AddHours(48), Step);

        Assert.Empty(rig.NotesFor(group));
        Assert.DoesNotContain(await PendingIdsAsync(rig), id => id.StartsWith("sla:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GroupIsRemindedAgainOnceItsSuppressionIsLifted()
    {
        await using var rig = new SlaRig(redis, Start);
        rig.StartNode();
        rig.StartNode();
        var group = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-0011", Severity.Critical, Start, slaHours: 24);
        await rig.RunUntilAsync(Start.AddHours(1), Step);
        await rig.SuppressAsync(group);
        await rig.RunUntilAsync(Start.AddHours(15), Step);
        Assert.Empty(rig.NotesFor(group));

        await rig.UnsuppressAsync(group);
        await rig.RunUntilAsync(Start.AddHours(30), Step);

        Assert.Collection(rig.NotesFor(group),
            // Picked up by the next scan (every 5 minutes), late but not lost.
            n => FiredOnFirstPassAfter(Start.AddHours(15).AddMinutes(5), n),
            n => Assert.Contains("90 %", n.Message.Text),
            n => Assert.StartsWith("SLA breached", n.Message.Text));
    }

    [Fact]
    public async Task EscalationMentionsTheOwnersApproversAndMarksTheCardSlaBreached()
    {
        await using var rig = new SlaRig(redis, Start);
        var a = rig.StartNode();
        rig.StartNode();
        var group = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-0005", Severity.Critical, Start, slaHours: 24);
        await rig.RunUntilAsync(Start.AddHours(23), Step);
        await DrainGroupsQueueAsync(rig, a);

        await rig.RunUntilAsync(Start.AddHours(26), Step);

        var escalation = rig.NotesFor(group)[^1];
        Assert.StartsWith("SLA breached: CVE-2026-0005 (CRITICAL) of payments", escalation.Message.Text);
        Assert.Equal(new[] { SlaRig.OnCall, SlaRig.OnCallEmail }, escalation.Message.Mentions!);
        var stored = await rig.GroupAsync(group);
        Assert.True(stored.Workflow.SlaBreached);
        Assert.Equal("SLA breached", stored.Workflow.History[^1].Action);
        var audit = await a.Audit.ReadAsync(Start, Start.AddDays(2), 100, CancellationToken.None);
        var breached = Assert.Single(audit, r => r.Action == "sla_breached");
        Assert.Equal(group, breached.GroupId);
        // The card is queued for re-rendering, now showing "SLA breached".
        Assert.Contains(await a.Queue.ClaimAsync(Queues.Groups, 10, TimeSpan.FromMinutes(1), rig.Time.GetUtcNow(), CancellationToken.None), i => i.Id == group);
    }

    [Fact]
    public async Task ReminderClaimedByAnInstanceThatDiesFiresOnceOnTheOtherAfterTheLease()
    {
        await using var rig = new SlaRig(redis, Start);
        var a = rig.StartNode();
        var b = rig.StartNode();
        var group = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-0006", Severity.Critical, Start, slaHours: 24);
        await rig.RunUntilAsync(Start.AddHours(11.5), Step);
        rig.Time.SetUtcNow(Start.AddHours(12));

        // Instance A claims the 50 % point and dies before doing anything with it.
        var claimed = await a.Queue.ClaimAsync(SlaScheduler.Queue, 10, TimeSpan.FromMinutes(2), rig.Time.GetUtcNow(), CancellationToken.None);
        Assert.Contains(claimed, i => i.Id == SlaStages.ItemId(group, 50));
        await a.DisposeAsync();
        await rig.RunUntilAsync(Start.AddHours(12).AddMinutes(1), TimeSpan.FromMinutes(1), [b]);
        Assert.Empty(rig.NotesFor(group));

        await rig.RunUntilAsync(Start.AddHours(12).AddMinutes(5), TimeSpan.FromMinutes(1), [b]);
        var restarted = rig.StartNode();
        await rig.RunUntilAsync(Start.AddHours(30), Step, [b, restarted]);

        Assert.Collection(rig.NotesFor(group),
            n =>
            {
                Assert.Contains("50 %", n.Message.Text);
                Assert.Equal(Start.AddHours(12).AddMinutes(2), n.At);
            },
            n => Assert.Contains("90 %", n.Message.Text),
            n => Assert.StartsWith("SLA breached", n.Message.Text));
    }

    [Fact]
    public async Task PointDeliveredAgainAfterItFiredDoesNotPostTwice()
    {
        await using var rig = new SlaRig(redis, Start);
        var a = rig.StartNode();
        var b = rig.StartNode();
        var group = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-0012", Severity.Critical, Start, slaHours: 24);
        await rig.RunUntilAsync(Start.AddHours(12), Step);
        Assert.Single(rig.NotesFor(group));

        // As if the instance that fired it died before completing the item: it is due again.
        await a.Queue.EnqueueAsync(SlaScheduler.Queue, SlaStages.ItemId(group, 50), "", Start.AddHours(12), CancellationToken.None);
        await rig.RunUntilAsync(Start.AddHours(13), Step, [b]);

        Assert.Single(rig.NotesFor(group));
    }

    [Fact]
    public async Task ScheduleSurvivesARestartOfEveryInstance()
    {
        await using var rig = new SlaRig(redis, Start);
        var a = rig.StartNode();
        var group = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-0007", Severity.Critical, Start, slaHours: 24);
        await rig.RunUntilAsync(Start.AddHours(13), Step);
        await a.DisposeAsync();

        // Down for a while; the fresh instance picks up the planned points from Redis.
        rig.Time.SetUtcNow(Start.AddHours(20));
        rig.StartNode();
        await rig.RunUntilAsync(Start.AddHours(30), Step);

        Assert.Collection(rig.NotesFor(group),
            n => Assert.Contains("50 %", n.Message.Text),
            n => Assert.Contains("90 %", n.Message.Text),
            n => Assert.StartsWith("SLA breached", n.Message.Text));
    }

    [Fact]
    public async Task AfterLongDowntimeOnlyTheLatestMissedPointSpeaks()
    {
        await using var rig = new SlaRig(redis, Start);
        var a = rig.StartNode();
        var group = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-0008", Severity.Critical, Start, slaHours: 24);
        await rig.RunUntilAsync(Start.AddHours(1), Step);
        await a.DisposeAsync();

        rig.Time.SetUtcNow(Start.AddHours(25));
        rig.StartNode();
        await rig.RunUntilAsync(Start.AddHours(30), Step);

        var note = Assert.Single(rig.NotesFor(group));
        Assert.StartsWith("SLA breached", note.Message.Text);
    }

    [Fact]
    public async Task ReminderDueInTheOwnersQuietHoursWaitsUntilTheyEnd()
    {
        await using var rig = new SlaRig(redis, Start, new()
        {
            ["Sla:QuietHours:payments:Start"] = "22:00",
            ["Sla:QuietHours:payments:End"] = "07:00",
            ["Sla:QuietHours:payments:TimeZone"] = "Europe/Berlin",
        });
        rig.StartNode();
        rig.StartNode();
        // First seen 06:00 UTC with a 34 h SLA: 50 % falls at 23:00 UTC, inside Berlin's 22:00–07:00 (21:00–06:00 UTC in March).
        var group = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-0009", Severity.Critical, Start, slaHours: 34);

        await rig.RunUntilAsync(Start.AddHours(25), Step);

        var reminder = Assert.Single(rig.NotesFor(group));
        Assert.Contains("50 %", reminder.Message.Text);
        Assert.Equal(new DateTimeOffset(2026, 3, 3, 6, 0, 0, TimeSpan.Zero), reminder.At);
    }

    [Fact]
    public async Task GroupBelowTheAlertThresholdIsMarkedBreachedWithoutThreadNotes()
    {
        await using var rig = new SlaRig(redis, Start);
        rig.StartNode();
        var group = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-0010", Severity.High, Start, slaHours: 72, alerting: false);

        await rig.RunUntilAsync(Start.AddHours(73), TimeSpan.FromHours(1));

        Assert.Empty(rig.NotesFor(group));
        Assert.True((await rig.GroupAsync(group)).Workflow.SlaBreached);
    }

    private static void FiredOnFirstPassAfter(DateTimeOffset point, Sent note) =>
        Assert.InRange(note.At, point, point + Step - TimeSpan.FromTicks(1));

    private static async Task DrainGroupsQueueAsync(SlaRig rig, SlaNode node)
    {
        foreach (var item in await node.Queue.ClaimAsync(Queues.Groups, 100, TimeSpan.FromMinutes(1), rig.Time.GetUtcNow(), CancellationToken.None))
        {
            await node.Queue.CompleteAsync(Queues.Groups, item, rig.Time.GetUtcNow(), CancellationToken.None);
        }
    }

    /// <summary>Ids waiting in the SLA schedule, read by claiming everything and putting it straight back.</summary>
    private static async Task<IReadOnlyList<string>> PendingIdsAsync(SlaRig rig)
    {
        var queue = rig.Nodes.First(n => !n.Disposed).Queue;
        var items = await queue.ClaimAsync(SlaScheduler.Queue, 1000, TimeSpan.Zero, new DateTimeOffset(9000, 1, 1, 0, 0, 0, TimeSpan.Zero), CancellationToken.None);
        foreach (var item in items)
        {
            await queue.RescheduleAsync(SlaScheduler.Queue, item, item.DueAt, CancellationToken.None);
        }
        return items.Select(i => i.Id).ToArray();
    }
}
