using ChatOpsInspector.Findings;

namespace ChatOpsInspector.Sla;

/// <summary>An owner's quiet window, resolved against its time zone.</summary>
internal sealed class QuietHours(TimeSpan start, TimeSpan end, TimeZoneInfo zone)
{
    public static QuietHours? For(SlaOptions options, string owner)
    {
        var entry = options.QuietHours.FirstOrDefault(q => string.Equals(q.Key, owner, StringComparison.OrdinalIgnoreCase)).Value;
        return entry is null ? null : new QuietHours(entry.Start, entry.End, Zone(entry.TimeZone));
    }

    public static TimeZoneInfo Zone(string? id) =>
        string.IsNullOrWhiteSpace(id) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(id.Trim());

    /// <summary>When the quiet window that contains <paramref name="now"/> ends, or null when it is not quiet now.</summary>
    public DateTimeOffset? EndsAfter(DateTimeOffset now)
    {
        if (start == end)
        {
            return null;
        }
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var timeOfDay = local.TimeOfDay;
        var wraps = start > end;
        var quiet = wraps ? timeOfDay >= start || timeOfDay < end : timeOfDay >= start && timeOfDay < end;
        if (!quiet)
        {
            return null;
        }
        var endDate = local.Date;
        if (wraps && timeOfDay >= start)
        {
            endDate = endDate.AddDays(1);
        }
        var endLocal = DateTime.SpecifyKind(endDate + end, DateTimeKind.Unspecified);
        // A window end that falls into a DST gap does not exist locally; step past it.
        while (zone.IsInvalidTime(endLocal))
        {
            endLocal = endLocal.AddMinutes(30);
        }
        return new DateTimeOffset(endLocal, zone.GetUtcOffset(endLocal)).ToUniversalTime();
    }
}
