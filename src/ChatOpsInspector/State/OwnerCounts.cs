using ChatOpsInspector.Findings;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.State;

/// <summary>
/// One owner's figures as the write scripts keep them: groups by (state, worst severity), the sums
/// behind the mean times, and how many open groups are past or near their SLA at one instant. Reading
/// them costs the same for ten groups as for a million.
/// </summary>
internal sealed record OwnerCounts
{
    public required string Owner { get; init; }

    public required IReadOnlyDictionary<(GroupState State, Severity Severity), long> Groups { get; init; }

    /// <summary>Groups with an acknowledgement time, and the sum of their times to acknowledge.</summary>
    public long Acknowledged { get; init; }

    public long AcknowledgeMillis { get; init; }

    /// <summary>Resolved groups with a recorded time to fix, and the sum of those times.</summary>
    public long Fixed { get; init; }

    public long FixMillis { get; init; }

    public long Breached { get; init; }

    /// <summary>Open groups due at or before the instant asked about.</summary>
    public long Overdue { get; init; }

    /// <summary>Open groups due after that instant and within <see cref="DueSoonWindow"/>.</summary>
    public long DueSoon { get; init; }

    public static readonly TimeSpan DueSoonWindow = TimeSpan.FromHours(24);

    public long Total => Groups.Values.Sum();

    public long Open => Groups.Where(g => g.Key.State.IsOpen()).Sum(g => g.Value);

    public long InState(GroupState state) => Groups.Where(g => g.Key.State == state).Sum(g => g.Value);

    /// <summary>Open groups by worst severity, worst first; severities with none are absent.</summary>
    public IReadOnlyList<KeyValuePair<Severity, long>> OpenBySeverity => Groups
        .Where(g => g.Key.State.IsOpen() && g.Value != 0)
        .GroupBy(g => g.Key.Severity)
        .Select(s => KeyValuePair.Create(s.Key, s.Sum(x => x.Value)))
        .Where(s => s.Value != 0)
        .OrderByDescending(s => s.Key)
        .ToArray();

    public TimeSpan? MeanTimeToAcknowledge => Mean(AcknowledgeMillis, Acknowledged);

    public TimeSpan? MeanTimeToFix => Mean(FixMillis, Fixed);

    private static TimeSpan? Mean(long millis, long count) => count <= 0 ? null : TimeSpan.FromMilliseconds((double)millis / count);

    /// <summary>Figures of several owners added up (the "all applications" line).</summary>
    public static OwnerCounts Sum(string owner, IEnumerable<OwnerCounts> parts)
    {
        var all = parts.ToArray();
        return new OwnerCounts
        {
            Owner = owner,
            Groups = all.SelectMany(p => p.Groups).GroupBy(g => g.Key).ToDictionary(g => g.Key, g => g.Sum(x => x.Value)),
            Acknowledged = all.Sum(p => p.Acknowledged),
            AcknowledgeMillis = all.Sum(p => p.AcknowledgeMillis),
            Fixed = all.Sum(p => p.Fixed),
            FixMillis = all.Sum(p => p.FixMillis),
            Breached = all.Sum(p => p.Breached),
            Overdue = all.Sum(p => p.Overdue),
            DueSoon = all.Sum(p => p.DueSoon),
        };
    }
}
