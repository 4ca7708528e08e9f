namespace ChatOpsInspector.Workflow;

/// <summary>A control of a named framework version, e.g. PCI DSS v4.0 requirement 6.3.3.</summary>
internal sealed record Control(string Framework, string Id, string Title)
{
    /// <summary>What export records carry, e.g. <c>PCI DSS v4.0 6.3.3</c>.</summary>
    public string Label => $"{Framework} {Id}";
}

/// <summary>A kind of audit record, the actions that produce it, and the controls it is evidence for.</summary>
internal sealed record AuditRecordType(string Kind, string Evidence, IReadOnlyList<string> Actions, IReadOnlyList<Control> Controls);

/// <summary>
/// The one mapping from audit records to the controls they evidence. README's control table is this
/// table (a test compares them), and <c>GET /api/audit?control=</c> filters by these ids exactly.
/// </summary>
internal static class AuditControls
{
    public const string Pci = "PCI DSS v4.0";
    public const string Nist = "NIST SP 800-53 Rev. 5";
    public const string Iso = "ISO/IEC 27001:2022";
    public const string Cis = "CIS Controls v8";

    public static readonly Control Pci631 = new(Pci, "6.3.1", "Security vulnerabilities are identified and managed (risk ranking)");
    public static readonly Control Pci633 = new(Pci, "6.3.3", "Known vulnerabilities patched; critical and high-security patches within one month of release");
    public static readonly Control Pci1131 = new(Pci, "11.3.1", "Internal vulnerability scans; high-risk and critical vulnerabilities resolved and rescanned");
    public static readonly Control Ra5 = new(Nist, "RA-5", "Vulnerability Monitoring and Scanning");
    public static readonly Control Si2 = new(Nist, "SI-2", "Flaw Remediation");
    public static readonly Control A88 = new(Iso, "A.8.8", "Management of technical vulnerabilities");
    public static readonly Control Cis72 = new(Cis, "7.2", "Establish and Maintain a Remediation Process");
    public static readonly Control Cis73 = new(Cis, "7.3", "Perform Automated Operating System Patch Management");
    public static readonly Control Cis75 = new(Cis, "7.5", "Perform Automated Vulnerability Scans of Internal Enterprise Assets");
    public static readonly Control Cis77 = new(Cis, "7.7", "Remediate Detected Vulnerabilities");

    public static IReadOnlyList<Control> All { get; } = [Pci631, Pci633, Pci1131, Ra5, Si2, A88, Cis72, Cis73, Cis75, Cis77];

    public static IReadOnlyList<AuditRecordType> Types { get; } =
    [
        new("detected", "Inspector's finding received: first observation, severity, SLA due date, resources",
            ["detected", "received"], [Pci631, Pci1131, Ra5, A88, Cis75]),
        new("alerted", "Card posted to the owner's channel: platform, channel, message id",
            ["alerted"], [Pci631, Ra5, Si2, A88, Cis72]),
        new("acknowledged", "A person of the owner took the alert on",
            ["acknowledged"], [Pci631, Si2, A88, Cis72]),
        new("assigned", "The fix has a named owner",
            ["assigned"], [Pci631, Si2, A88, Cis72]),
        new("sla", "Fix deadline missed (the SLA due date passed with findings open)",
            ["sla_breached"], [Pci633, Si2, A88, Cis77]),
        new("suppressed", "Risk accepted for a time: who, why, until when, Inspector filter; lifted or expired",
            ["suppressed", "suppression_filter_created", "suppressed_in_inspector", "suppress_failed", "unsuppressed",
             "suppression_expired", "suppression_filter_deleted", "suppression_filter_already_deleted"],
            [Pci631, Ra5, A88, Cis72]),
        new("patched", "Patch requested, approved by another person, SSM commands and per-instance results",
            ["patch_requested", "patch_checked", "patch_check_failed", "patch_approved", "patch_rejected", "patch_cancelled", "approval_expired", "patch_command_sent",
             "patch_batch_failed", "patch_failed_to_start", "patch_progress", "patch_finished", "patch_stalled", "patch_not_effective"],
            [Pci633, Si2, A88, Cis73, Cis77]),
        new("isolated", "Instances isolated while no fix is applied: request, approval, SSM Automation executions, release",
            ["isolation_requested", "isolation_checked", "isolation_check_failed", "isolation_approved", "isolation_started",
             "isolation_command_sent", "isolation_failed_to_start", "isolation_failed", "isolation_stalled", "release_requested",
             "release_started", "release_failed_to_start", "release_failed"],
            [Ra5, A88, Cis72]),
        new("verified_fixed", "Inspector's rescan closed every finding: close time, time to fix, SLA met or not",
            ["verified_fixed"], [Pci633, Pci1131, Ra5, Si2, A88, Cis77]),
        new("reopened", "A finding verified fixed is open again",
            ["reopened"], [Pci1131, Ra5, Si2, A88, Cis77]),
    ];

    private static readonly Dictionary<string, AuditRecordType> ByAction =
        Types.SelectMany(t => t.Actions.Select(a => (a, t))).ToDictionary(p => p.a, p => p.t, StringComparer.Ordinal);

    /// <summary>The record's type; null for operational records (chat delivery, Security Hub write-back).</summary>
    public static AuditRecordType? TypeOf(string action) => ByAction.GetValueOrDefault(action);

    public static IReadOnlyList<string> LabelsFor(string action) =>
        TypeOf(action) is { } type ? [.. type.Controls.Select(c => c.Label)] : [];

    /// <summary>
    /// True when <paramref name="query"/> names one of the controls exactly: its id (<c>6.3.3</c>, <c>RA-5</c>,
    /// <c>A.8.8</c>, <c>7.7</c>) or its full label (<c>PCI DSS v4.0 6.3.3</c>). <c>6.3.3</c> never matches 6.3.31.
    /// </summary>
    public static bool Matches(string action, string query)
    {
        var q = query.Trim();
        return TypeOf(action) is { } type && type.Controls.Any(c =>
            string.Equals(c.Id, q, StringComparison.OrdinalIgnoreCase) || string.Equals(c.Label, q, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>True when some control has this id or label: an unknown one is a mistake worth a 400.</summary>
    public static bool IsKnown(string query)
    {
        var q = query.Trim();
        return All.Any(c => string.Equals(c.Id, q, StringComparison.OrdinalIgnoreCase) || string.Equals(c.Label, q, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The README table, row per record type: the same text README carries.</summary>
    public static string MarkdownTable()
    {
        var lines = new List<string>
        {
            $"| Record | Evidence | Actions | {Pci} | {Nist} | {Iso} | {Cis} |",
            "|---|---|---|---|---|---|---|",
        };
        foreach (var t in Types)
        {
            string Ids(string framework) => string.Join(", ", t.Controls.Where(c => c.Framework == framework).Select(c => c.Id)) is { Length: > 0 } s ? s : "—";
            lines.Add($"| `{t.Kind}` | {t.Evidence} | {string.Join(", ", t.Actions.Select(a => $"`{a}`"))} | {Ids(Pci)} | {Ids(Nist)} | {Ids(Iso)} | {Ids(Cis)} |");
        }
        return string.Join('\n', lines);
    }
}
