using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;

namespace ChatOpsInspector.Sla;

/// <summary>
/// The points of a group's SLA at which something happens: the reminder fractions of
/// <see cref="SlaOptions.Reminders"/> and the escalation at 100 %. Schedule item ids are
/// <c>sla:{groupId}:{percent}</c>, so each point exists once per group.
/// </summary>
internal sealed class SlaStages(SlaOptions options)
{
    public const int Escalation = 100;

    private readonly int[] _percents =
        [.. options.Reminders.Select(f => (int)Math.Round(f * 100)).Where(p => p is > 0 and < 100).Distinct().Order(), Escalation];

    /// <summary>Reminder percents in order, then 100.</summary>
    public IReadOnlyList<int> Percents => _percents;

    /// <summary>The last reminder before the escalation: the only one an acknowledged group still gets.</summary>
    public int? LastReminder => _percents.Length > 1 ? _percents[^2] : null;

    public static DateTimeOffset DueAt(AlertGroup group, int percent)
    {
        var start = group.FirstSeenAt;
        var end = group.Meta.SlaDueAt;
        return end <= start ? end : start + (end - start) * (percent / 100.0);
    }

    public static string ItemId(string groupId, int percent) => $"sla:{groupId}:{percent}";

    public static bool TryParse(string itemId, out string groupId, out int percent)
    {
        groupId = "";
        percent = 0;
        var parts = itemId.Split(':');
        if (parts.Length != 3 || parts[0] != "sla" || !int.TryParse(parts[2], out percent))
        {
            return false;
        }
        groupId = parts[1];
        return true;
    }

    /// <summary>What the item at <paramref name="percent"/> should do for this group now.</summary>
    public SlaStep Decide(AlertGroup group, int percent, DateTimeOffset now)
    {
        var wf = group.Workflow;
        if (!wf.IsOpen)
        {
            return SlaStep.Skip($"group is {wf.State}");
        }
        // Groups below the alert threshold have no card to thread under; the daily digest covers them.
        var hasCard = group.Meta.Alerting || group.Cards.Count > 0;
        if (percent >= Escalation)
        {
            return wf.SlaBreached ? SlaStep.Skip("already escalated")
                : hasCard || options.BelowThresholdBreach == BelowThresholdBreach.Escalate ? SlaStep.Escalate
                : SlaStep.MarkBreached;
        }
        if (!hasCard)
        {
            return SlaStep.Skip("below the alert threshold");
        }
        if (wf.AcknowledgedAt is not null && percent != LastReminder)
        {
            return SlaStep.Skip("acknowledged");
        }
        // After downtime or a late first sighting several points may be past: only the latest speaks.
        var later = _percents.FirstOrDefault(p => p > percent);
        if (later > 0 && DueAt(group, later) <= now)
        {
            return SlaStep.Skip($"superseded by {later} %");
        }
        return SlaStep.Remind;
    }
}

internal enum SlaStepKind
{
    Skip,
    Remind,
    Escalate,

    /// <summary>Breached, but nobody is paged: the group has no card (the digest reports it).</summary>
    MarkBreached,
}

internal sealed record SlaStep(SlaStepKind Kind, string? Reason = null)
{
    public static SlaStep Remind { get; } = new(SlaStepKind.Remind);
    public static SlaStep Escalate { get; } = new(SlaStepKind.Escalate);
    public static SlaStep MarkBreached { get; } = new(SlaStepKind.MarkBreached);
    public static SlaStep Skip(string reason) => new(SlaStepKind.Skip, reason);
}
