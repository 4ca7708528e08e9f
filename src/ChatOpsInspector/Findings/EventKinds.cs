namespace ChatOpsInspector.Findings;

/// <summary>
/// The closed sets of metric labels for events: a sender controls <c>detail-type</c>, so it never
/// becomes a label value as such, or one misbehaving rule could create unbounded series.
/// </summary>
internal static class EventKinds
{
    public const string Other = "other";
    public const string OtherSource = "other_source";

    // The event types Amazon Inspector and Security Hub publish to EventBridge (EventBridge events
    // reference "Amazon Inspector events"; Security Hub user guide "EventBridge event formats"), plus
    // the CloudTrail API-call events both services also emit under their own source.
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        InspectorEvent.FindingDetailType,
        "Inspector2 Scan",
        "Inspector2 Coverage",
        "Inspector2 AutoEnable",
        "Inspector Finding",
        "Inspector Scan",
        "AWS API Call via CloudTrail",
        SecurityHub.SecurityHubEvents.AsffDetailType,
        SecurityHub.SecurityHubEvents.OcsfDetailType,
        "Security Hub Findings - Custom Action",
        "Security Hub Insight Results",
    };

    /// <summary>The <c>detail_type</c> label for an event of a source the bot reads.</summary>
    public static string Label(string detailType) => Known.Contains(detailType) ? detailType : Other;
}

/// <summary>Why an accepted event stored nothing: the <c>reason</c> label of <c>coi_events_ignored_total</c>.</summary>
internal static class IgnoredReasons
{
    /// <summary>An Inspector or Security Hub event that carries no finding (scan, coverage, auto-enable, insight results).</summary>
    public const string NotAFinding = "not_a_finding";

    /// <summary>A well-formed AWS event from a source the bot does not read (a rule matched too much).</summary>
    public const string OtherSource = "other_source";

    /// <summary>A Security Hub finding that is not about a vulnerability (posture control, threat detection, data).</summary>
    public const string NotAVulnerability = "not_a_vulnerability";
}
