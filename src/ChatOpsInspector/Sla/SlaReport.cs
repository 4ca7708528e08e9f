using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Sla;

/// <summary>
/// SLA figures per owner, computed from alert groups at one instant: what <c>/vulns sla</c> and
/// <c>/vulns stats</c> show. Pure: give it the groups (e.g. <see cref="AlertQueries.AllGroupsAsync"/>) and the time.
/// </summary>
internal sealed record SlaReport(DateTimeOffset At, IReadOnlyList<OwnerSla> Owners, OwnerSla Total)
{
    /// <summary>Open groups due within this window count as "due soon".</summary>
    public static readonly TimeSpan DueSoonWindow = TimeSpan.FromHours(24);

    /// <summary>
    /// The report for <paramref name="owner"/> (case-insensitive), or for every owner when null. Owners
    /// are ordered by most overdue, then name; <see cref="Total"/> sums the owners in the report.
    /// </summary>
    public static SlaReport For(IEnumerable<AlertGroup> groups, DateTimeOffset now, string? owner = null)
    {
        var selected = groups
            .Where(g => owner is null || string.Equals(g.Owner, owner, StringComparison.OrdinalIgnoreCase))
            .ToArray();
        var owners = selected
            .GroupBy(g => g.Owner, StringComparer.OrdinalIgnoreCase)
            .Select(o => OwnerSla.Of(o.Key, o, now))
            .OrderByDescending(o => o.Overdue.Count)
            .ThenBy(o => o.Owner, StringComparer.OrdinalIgnoreCase)
            .ToArray();
        return new SlaReport(now, owners, OwnerSla.Of(owner ?? "all", selected, now));
    }
}

/// <summary>One owner's SLA figures. Means are null when nothing has been acknowledged or fixed yet.</summary>
internal sealed record OwnerSla
{
    public required string Owner { get; init; }

    /// <summary>Open groups (not resolved, not suppressed).</summary>
    public required int Open { get; init; }

    /// <summary>Open groups by worst severity; severities with none are absent.</summary>
    public required IReadOnlyDictionary<Severity, int> OpenBySeverity { get; init; }

    /// <summary>Open groups past their SLA, most overdue first.</summary>
    public required IReadOnlyList<SlaItem> Overdue { get; init; }

    /// <summary>Open groups due within <see cref="SlaReport.DueSoonWindow"/>, soonest first.</summary>
    public required IReadOnlyList<SlaItem> DueSoon { get; init; }

    /// <summary>Groups, open or not, that were marked as having breached their SLA.</summary>
    public required int Breached { get; init; }

    public required int Acknowledged { get; init; }

    /// <summary>Mean of AcknowledgedAt − first seen, over acknowledged groups.</summary>
    public TimeSpan? MeanTimeToAcknowledge { get; init; }

    public required int Fixed { get; init; }

    /// <summary>Mean of the time to fix recorded when Inspector closed every finding of a group.</summary>
    public TimeSpan? MeanTimeToFix { get; init; }

    internal static OwnerSla Of(string owner, IEnumerable<AlertGroup> groups, DateTimeOffset now)
    {
        var all = groups.ToArray();
        var open = all.Where(g => g.Workflow.IsOpen).ToArray();
        var acknowledged = all.Where(g => g.Workflow.AcknowledgedAt is not null)
            .Select(g => Max(g.Workflow.AcknowledgedAt!.Value - g.FirstSeenAt, TimeSpan.Zero)).ToArray();
        var fixedTimes = all.Where(g => g.Workflow.State == GroupState.Resolved && g.Workflow.TimeToFix is not null)
            .Select(g => g.Workflow.TimeToFix!.Value).ToArray();
        return new OwnerSla
        {
            Owner = owner,
            Open = open.Length,
            OpenBySeverity = open.GroupBy(g => g.Severity).OrderByDescending(s => s.Key).ToDictionary(s => s.Key, s => s.Count()),
            Overdue = open.Where(g => g.Meta.SlaDueAt <= now).OrderBy(g => g.Meta.SlaDueAt).Select(g => SlaItem.Of(g, now)).ToArray(),
            DueSoon = open.Where(g => g.Meta.SlaDueAt > now && g.Meta.SlaDueAt <= now + SlaReport.DueSoonWindow)
                .OrderBy(g => g.Meta.SlaDueAt).Select(g => SlaItem.Of(g, now)).ToArray(),
            Breached = all.Count(g => g.Workflow.SlaBreached),
            Acknowledged = acknowledged.Length,
            MeanTimeToAcknowledge = Mean(acknowledged),
            Fixed = fixedTimes.Length,
            MeanTimeToFix = Mean(fixedTimes),
        };
    }

    private static TimeSpan? Mean(TimeSpan[] spans) =>
        spans.Length == 0 ? null : TimeSpan.FromTicks((long)spans.Average(s => (double)s.Ticks));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

/// <summary>One open group in an SLA list. <see cref="Remaining"/> is negative when overdue.</summary>
internal sealed record SlaItem(
    string GroupId,
    string Owner,
    string VulnerabilityId,
    string Title,
    Severity Severity,
    GroupState State,
    int OpenResources,
    DateTimeOffset DueAt,
    TimeSpan Remaining,
    string? AssignedTo)
{
    public bool IsOverdue => Remaining <= TimeSpan.Zero;

    internal static SlaItem Of(AlertGroup g, DateTimeOffset now) => new(
        g.Id, g.Owner, g.VulnerabilityId, g.Meta.Title, g.Severity, g.Workflow.State, g.OpenCount,
        g.Meta.SlaDueAt, g.Meta.SlaDueAt - now, g.Workflow.AssignedTo?.DisplayName);
}
