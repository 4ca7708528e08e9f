using System.Globalization;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Sla;

/// <summary>A calendar month in UTC, written <c>yyyy-MM</c>.</summary>
internal readonly record struct ReportMonth(int Year, int Month)
{
    public DateTimeOffset Start => new(Year, Month, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Exclusive: the first instant of the next month.</summary>
    public DateTimeOffset End => Start.AddMonths(1);

    public bool Contains(DateTimeOffset at) => at >= Start && at < End;

    public ReportMonth AddMonths(int months) => Of(Start.AddMonths(months));

    public static ReportMonth Of(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return new ReportMonth(utc.Year, utc.Month);
    }

    public static bool TryParse(string? text, out ReportMonth month)
    {
        month = default;
        if (text is not { Length: 7 } || !DateTime.TryParseExact(text, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return false;
        }
        month = new ReportMonth(date.Year, date.Month);
        return true;
    }

    public override string ToString() => Start.ToString("yyyy-MM", CultureInfo.InvariantCulture);
}

/// <summary>
/// SLA compliance per owner, severity and month, computed from alert groups as they stand at
/// <see cref="GeneratedAt"/>. Pure: give it the groups and the time.
/// <para>
/// What is counted: alert groups (one card = one owner and vulnerability), each in the UTC month its SLA
/// fell due (<see cref="GroupMeta.SlaDueAt"/>), whenever it was fixed — a finding fixed in December that was
/// due in November counts in November, as met or missed. <c>Findings</c> counts the Inspector findings
/// (affected resources) in those groups. A group's severity is its worst finding's.
/// </para>
/// </summary>
internal sealed record ComplianceReport(ReportMonth Month, DateTimeOffset GeneratedAt, IReadOnlyList<ComplianceRow> Rows, ComplianceRow Total)
{
    /// <summary>The percentile of the p90 columns.</summary>
    public const double P90 = 0.9;

    /// <summary>
    /// Rows per owner and severity for <paramref name="month"/>, owners by name, worst severity first;
    /// <paramref name="owner"/> (case-insensitive) narrows it to one owner. <see cref="Total"/> sums the rows.
    /// </summary>
    public static ComplianceReport For(IEnumerable<AlertGroup> groups, ReportMonth month, DateTimeOffset now, string? owner = null)
    {
        var due = groups
            .Where(g => month.Contains(g.Meta.SlaDueAt))
            .Where(g => owner is null || string.Equals(g.Owner, owner, StringComparison.OrdinalIgnoreCase))
            .ToArray();
        var rows = due
            .GroupBy(g => (Owner: g.Owner.ToLowerInvariant(), g.Severity))
            .OrderBy(r => r.Key.Owner, StringComparer.Ordinal)
            .ThenByDescending(r => r.Key.Severity)
            .Select(r => ComplianceRow.Of(r.First().Owner, r.Key.Severity, month, r, now))
            .ToArray();
        return new ComplianceReport(month, now, rows, ComplianceRow.Of(owner ?? "all", null, month, due, now));
    }

    /// <summary>One row per severity (critical first) summed over the report's owners, e.g. for a chart.</summary>
    public IReadOnlyList<ComplianceRow> BySeverity() =>
        [.. Rows.GroupBy(r => r.Severity).OrderByDescending(s => s.Key).Select(s => ComplianceRow.Sum(Total.Owner, s.Key, Month, s))];

    /// <summary>
    /// Nearest-rank percentile: the smallest value with at least <paramref name="fraction"/> of the values
    /// at or below it (sorted ascending, the ⌈fraction·n⌉-th). Always one of the values; null when there are none.
    /// </summary>
    public static TimeSpan? Percentile(IReadOnlyCollection<TimeSpan> values, double fraction)
    {
        if (values.Count == 0)
        {
            return null;
        }
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(fraction * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    public static TimeSpan? Mean(IReadOnlyCollection<TimeSpan> values) =>
        values.Count == 0 ? null : TimeSpan.FromTicks((long)Math.Round(values.Average(v => (double)v.Ticks)));
}

/// <summary>
/// One owner and severity in one month. An SLA is <b>met</b> when the group was verified fixed (Inspector
/// closed every finding) at or before its due time, <b>missed</b> when it was fixed later or is still open
/// past due. Suppressed groups are accepted risk, counted apart and in neither; open groups not yet due are
/// <b>pending</b>. Met % = met / (met + missed).
/// </summary>
internal sealed record ComplianceRow
{
    public required string Owner { get; init; }

    /// <summary>Null in a total over severities.</summary>
    public Severity? Severity { get; init; }

    public required ReportMonth Month { get; init; }

    /// <summary>Alert groups whose SLA fell due in the month.</summary>
    public required int Groups { get; init; }

    /// <summary>Inspector findings (affected resources) in those groups.</summary>
    public required int Findings { get; init; }

    public required int Met { get; init; }
    public required int Missed { get; init; }

    /// <summary>Open and past due at the report's time: part of <see cref="Missed"/>.</summary>
    public required int OpenPastDue { get; init; }

    /// <summary>Open and not due yet (only in the current month).</summary>
    public required int Pending { get; init; }

    public required int Suppressed { get; init; }

    /// <summary>Null when nothing was met or missed yet.</summary>
    public double? MetPercent => Met + Missed == 0 ? null : Math.Round(100.0 * Met / (Met + Missed), 1);

    /// <summary>Groups acknowledged after their card was posted; time to acknowledge = acknowledged − first card posted.</summary>
    public required IReadOnlyList<TimeSpan> TimesToAcknowledge { get; init; }

    /// <summary>Groups verified fixed; time to fix = verified fixed − Inspector's first observation.</summary>
    public required IReadOnlyList<TimeSpan> TimesToFix { get; init; }

    public int Acknowledged => TimesToAcknowledge.Count;
    public int Fixed => TimesToFix.Count;
    public TimeSpan? MeanTimeToAcknowledge => ComplianceReport.Mean(TimesToAcknowledge);
    public TimeSpan? P90TimeToAcknowledge => ComplianceReport.Percentile(TimesToAcknowledge, ComplianceReport.P90);
    public TimeSpan? MeanTimeToFix => ComplianceReport.Mean(TimesToFix);
    public TimeSpan? P90TimeToFix => ComplianceReport.Percentile(TimesToFix, ComplianceReport.P90);

    internal static ComplianceRow Of(string owner, Severity? severity, ReportMonth month, IEnumerable<AlertGroup> groups, DateTimeOffset now)
    {
        var all = groups.ToArray();
        var resolved = all.Where(g => g.Workflow.State == GroupState.Resolved && g.Workflow.ResolvedAt is not null).ToArray();
        var open = all.Where(g => g.Workflow.IsOpen).ToArray();
        var met = resolved.Count(g => g.Workflow.ResolvedAt <= g.Meta.SlaDueAt);
        var openPastDue = open.Count(g => g.Meta.SlaDueAt <= now);
        return new ComplianceRow
        {
            Owner = owner,
            Severity = severity,
            Month = month,
            Groups = all.Length,
            Findings = all.Sum(g => g.Members.Count),
            Met = met,
            Missed = resolved.Length - met + openPastDue,
            OpenPastDue = openPastDue,
            Pending = open.Length - openPastDue,
            Suppressed = all.Count(g => g.Workflow.State == GroupState.Suppressed),
            TimesToAcknowledge = [.. all.Select(TimeToAcknowledge).OfType<TimeSpan>()],
            TimesToFix = [.. resolved.Select(g => NotNegative(g.Workflow.TimeToFix ?? g.Workflow.ResolvedAt!.Value - g.FirstSeenAt))],
        };
    }

    internal static ComplianceRow Sum(string owner, Severity? severity, ReportMonth month, IEnumerable<ComplianceRow> rows)
    {
        var all = rows.ToArray();
        return new ComplianceRow
        {
            Owner = owner,
            Severity = severity,
            Month = month,
            Groups = all.Sum(r => r.Groups),
            Findings = all.Sum(r => r.Findings),
            Met = all.Sum(r => r.Met),
            Missed = all.Sum(r => r.Missed),
            OpenPastDue = all.Sum(r => r.OpenPastDue),
            Pending = all.Sum(r => r.Pending),
            Suppressed = all.Sum(r => r.Suppressed),
            TimesToAcknowledge = [.. all.SelectMany(r => r.TimesToAcknowledge)],
            TimesToFix = [.. all.SelectMany(r => r.TimesToFix)],
        };
    }

    /// <summary>
    /// From the first card posted (on any platform) to the acknowledgement. Groups never posted (below the
    /// alert threshold) or posted before post times were kept have none; an acknowledgement from
    /// <c>/vulns</c> before the card went out counts as zero.
    /// </summary>
    private static TimeSpan? TimeToAcknowledge(AlertGroup group)
    {
        if (group.Workflow.AcknowledgedAt is not { } acknowledged)
        {
            return null;
        }
        var posted = group.Cards.Values.Select(c => c.PostedAt).OfType<DateTimeOffset>().ToArray();
        return posted.Length == 0 ? null : NotNegative(acknowledged - posted.Min());
    }

    private static TimeSpan NotNegative(TimeSpan span) => span > TimeSpan.Zero ? span : TimeSpan.Zero;
}
