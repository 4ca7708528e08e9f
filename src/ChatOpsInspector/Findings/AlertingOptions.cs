namespace ChatOpsInspector.Findings;

/// <summary>Section <c>Alerting</c>: a finding alerts when it reaches any threshold.</summary>
internal sealed class AlertingOptions
{
    public const string Section = "Alerting";

    public Severity MinSeverity { get; set; } = Severity.Critical;
    public double? MinInspectorScore { get; set; } = 8.0;

    /// <summary>EPSS probability (0–1); empty disables the EPSS threshold.</summary>
    public double? MinEpss { get; set; }

    public GroupingMode Grouping { get; set; } = GroupingMode.OwnerAndVulnerability;
}

internal enum GroupingMode
{
    OwnerAndVulnerability,
    None,
}

/// <summary>Section <c>Sla</c>: hours to fix per severity, and when to remind.</summary>
internal sealed class SlaOptions
{
    public const string Section = "Sla";

    public double Critical { get; set; } = 24;
    public double High { get; set; } = 72;
    public double Medium { get; set; } = 720;
    public double Low { get; set; } = 2160;

    /// <summary>Fractions of the SLA at which open groups are reminded; 1.0 escalates.</summary>
    public List<double> Reminders { get; set; } = [0.5, 0.9];

    /// <summary>Time of day (UTC) at which each owner's daily digest is sent.</summary>
    public TimeSpan DigestTimeUtc { get; set; } = TimeSpan.FromHours(9);

    /// <summary>
    /// What happens when a group below the alert threshold (no card) breaches its SLA: <c>Digest</c> (the
    /// next daily digest reports it) or <c>Escalate</c> (an escalation message in the owner's channel).
    /// </summary>
    public BelowThresholdBreach BelowThresholdBreach { get; set; } = BelowThresholdBreach.Digest;

    /// <summary>Owner → hours in which reminders wait (escalations still go out). Optional.</summary>
    public Dictionary<string, QuietHoursOptions> QuietHours { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public TimeSpan For(Severity severity) => TimeSpan.FromHours(severity switch
    {
        Severity.Critical => Critical,
        Severity.High => High,
        Severity.Medium => Medium,
        _ => Low,
    });
}

internal enum BelowThresholdBreach
{
    Digest,
    Escalate,
}

/// <summary>A daily window, in the owner's time zone, in which SLA reminders are held back.</summary>
internal sealed class QuietHoursOptions
{
    public TimeSpan Start { get; set; } = TimeSpan.FromHours(22);
    public TimeSpan End { get; set; } = TimeSpan.FromHours(7);

    /// <summary>IANA or Windows time zone id; empty means UTC.</summary>
    public string? TimeZone { get; set; }
}
