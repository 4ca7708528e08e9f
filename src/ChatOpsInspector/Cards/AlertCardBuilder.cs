using System.Globalization;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Cards;

/// <summary>Turns an alert group into card content. Pure: same group and clock, same card.</summary>
internal static class AlertCardBuilder
{
    public const int MaxResourcesShown = 10;
    public const int MaxDescriptionChars = 600;

    public const int MaxInstanceNamesShown = 10;

    public static AlertCardView Build(AlertGroup group, DateTimeOffset now, CardFeatures? features = null)
    {
        var meta = group.Meta;
        var wf = group.Workflow;
        var resources = group.Resources;
        var region = string.IsNullOrEmpty(meta.Region) ? "us-east-1" : meta.Region;
        var ec2 = group.OpenEc2Instances;
        var breached = wf.SlaBreached || (wf.IsOpen && now >= meta.SlaDueAt);

        return new AlertCardView
        {
            GroupId = group.Id,
            Owner = meta.Owner,
            VulnerabilityId = meta.VulnerabilityId,
            Title = meta.Title,
            Severity = group.Severity,
            PriorityLabel = PriorityLabel(meta.Priority),
            InspectorScore = group.InspectorScore,
            CvssVector = meta.Cvss?.Vector,
            CvssBaseScore = meta.Cvss?.BaseScore,
            Epss = group.Epss,
            ExploitAvailable = group.ExploitAvailable,
            FixAvailable = meta.FixAvailable,
            FixedVersions = meta.FixedVersions,
            Packages = meta.Packages,
            Description = Truncate(meta.Description, MaxDescriptionChars),
            Remediation = Truncate(meta.Remediation, 300),
            Environment = meta.Environment,
            FirstSeenAt = group.FirstSeenAt,
            SlaDueAt = meta.SlaDueAt,
            SlaBreached = breached,
            OpenCount = group.OpenCount,
            FixedCount = group.FixedCount,
            ResourceCount = resources.Count,
            Resources = resources.Take(MaxResourcesShown).Select(ToCardResource).ToArray(),
            MoreResources = Math.Max(0, resources.Count - MaxResourcesShown),
            State = wf.State,
            StateLabel = StateLabel(wf, breached),
            StateLines = wf.History.Select(Describe).ToArray(),
            PatchProgress = wf.Patch?.Progress?.ToString(),
            PatchRequestId = wf.Patch?.Id,
            ApprovalSummary = wf.State == GroupState.PatchRequested && wf.Patch is { Checking: false } ? ApprovalSummary(group) : null,
            Checking = wf.State == GroupState.PatchRequested && wf.Patch is { Checking: true },
            RunNoun = wf.Patch?.Noun ?? "patch",
            InspectorConsoleUrl = $"https://{region}.console.aws.amazon.com/inspector/v2/home?region={region}#/findings/all",
            VulnerabilityUrl = VulnerabilityUrl(meta),
            Actions = ActionsFor(group, ec2, features ?? CardFeatures.None),
            PatchUnavailableReason = ec2.Count > 0 ? null : PatchUnavailable(meta),
            FallbackText = $"{SeverityLabel(group.Severity)} {meta.VulnerabilityId}: {meta.Title} — {group.OpenCount} open, owner {meta.Owner}",
        };
    }

    public static string SeverityLabel(Severity severity) => severity.ToString().ToUpperInvariant();

    public static string PriorityLabel(int priority) => priority switch
    {
        >= 90 => "P1",
        >= 70 => "P2",
        >= 40 => "P3",
        _ => "P4",
    };

    public static string StateLabel(WorkflowState wf, bool breached)
    {
        var label = wf.State switch
        {
            GroupState.New => "New",
            GroupState.Acknowledged => $"Acknowledged by {wf.AcknowledgedBy?.DisplayName}",
            GroupState.Assigned => $"Assigned to {wf.AssignedTo?.DisplayName}",
            GroupState.Suppressed => wf.Suppression! switch
            {
                { Scope: { } scope } s => $"Suppressed until {Format(s.ExpiresAt)}: {scope}",
                { FilterArn: null } => "Suppressing (waiting for Inspector to confirm the filters)",
                var s => $"Suppressed until {Format(s.ExpiresAt)}",
            },
            GroupState.PatchRequested => $"{(wf.Patch?.Kind == PatchRequest.IsolateKind ? "Isolation" : "Patch")} requested by {wf.Patch?.RequestedBy.DisplayName}, " +
                (wf.Patch?.Checking == true ? "checking SSM…" : "awaiting approval"),
            GroupState.Patching when wf.Patch?.Kind == PatchRequest.IsolateKind => $"Isolating ({wf.Patch.Progress?.ToString() ?? "starting…"})",
            GroupState.Patching when wf.Patch?.Kind == PatchRequest.ReleaseKind => $"Releasing ({wf.Patch.Progress?.ToString() ?? "starting…"})",
            GroupState.Patching => $"Patching ({wf.Patch?.Progress?.ToString() ?? "starting…"}" +
                (wf.Patch?.CommandIds.Count > 1 ? $"; {wf.Patch.CommandIds.Count} commands)" : ")"),
            GroupState.Patched => "Patched, waiting for Inspector to verify",
            GroupState.Isolated => $"Isolated ({wf.Patch?.ContainedInstances.Count ?? 0} instance(s) contained" +
                (wf.Patch?.Progress is { Failed: > 0 } p ? $", {p.Failed} failed" : "") + ")",
            GroupState.Resolved => wf.TimeToFix is { } ttf ? $"Resolved (verified fixed in {FormatDuration(ttf)})" : "Resolved",
            _ => wf.State.ToString(),
        };
        return breached && wf.IsOpen ? label + " · SLA breached" : label;
    }

    public static string Format(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string FormatDuration(TimeSpan span) => span.TotalHours switch
    {
        >= 48 => $"{(int)span.TotalDays} d",
        >= 1 => $"{(int)span.TotalHours} h {span.Minutes} min",
        _ => $"{Math.Max(0, (int)span.TotalMinutes)} min",
    };

    /// <summary>"in 5 h" / "3 d ago": SLA due relative to now.</summary>
    public static string Relative(DateTimeOffset at, DateTimeOffset now)
    {
        var delta = at - now;
        var text = FormatDuration(delta.Duration());
        return delta >= TimeSpan.Zero ? $"in {text}" : $"{text} ago";
    }

    private static CardResource ToCardResource(GroupMember m) => new(
        m.ResourceType,
        m.ResourceId,
        m.Region,
        m.AccountName is null ? m.AccountId : $"{m.AccountName} ({m.AccountId})",
        m.Status.ToString().ToUpperInvariant(),
        m.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Take(5).ToArray());

    private static string Describe(HistoryEntry e) =>
        $"{e.Action} by {e.Actor.DisplayName}" + (e.Detail is null ? "" : $" ({e.Detail})") + $" · {Format(e.At)}";

    /// <summary>
    /// What a pending request asks the approver to approve, in one line: runbook, operation, reboot
    /// option, how many instances and their Name tags (else ids). Plain text; renderers escape it.
    /// </summary>
    public static string? ApprovalSummary(AlertGroup group)
    {
        if (group.Workflow.Patch is not { } p)
        {
            return null;
        }
        var tags = group.Members.Where(m => m.ResourceType == ResourceTypes.Ec2Instance)
            .GroupBy(m => m.ResourceId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(m => m.Tags.TryGetValue("Name", out var n) ? n : null).FirstOrDefault(n => !string.IsNullOrWhiteSpace(n)), StringComparer.Ordinal);
        var names = p.InstanceIds.Take(MaxInstanceNamesShown)
            .Select(id => tags.TryGetValue(id, out var name) && name is not null ? $"{name} ({id})" : id);
        var more = p.InstanceIds.Count > MaxInstanceNamesShown ? $" and {p.InstanceIds.Count - MaxInstanceNamesShown} more" : "";
        var what = p.Kind switch
        {
            PatchRequest.IsolateKind => $"Runbook {p.Document} (SSM Automation, one run per instance: network containment)",
            _ => $"Document {p.Document}, Operation={p.Operation ?? "Install"}, RebootOption={p.RebootOption}" +
                (p.RebootOption == Aws.RemediationOptions.NoReboot ? " (no reboot)" : " (instances may reboot)"),
        };
        return $"{what} · {p.InstanceIds.Count} instance(s): {string.Join(", ", names)}{more}";
    }

    private static IReadOnlyList<CardAction> ActionsFor(AlertGroup group, IReadOnlyList<string> ec2, CardFeatures features)
    {
        var wf = group.Workflow;
        return wf.State switch
        {
            GroupState.Resolved => [],
            GroupState.Suppressed => [CardAction.Unsuppress],
            // Nothing to approve while SSM is being checked; the requester may still cancel.
            GroupState.PatchRequested when wf.Patch is { Checking: true } => [CardAction.RejectPatch],
            GroupState.PatchRequested => [CardAction.ApprovePatch, CardAction.RejectPatch],
            GroupState.Patching => [],
            GroupState.Isolated => [.. features.Release ? [CardAction.Release] : Array.Empty<CardAction>(), CardAction.Assign],
            _ => [
                .. wf.State == GroupState.New ? [CardAction.Acknowledge] : Array.Empty<CardAction>(),
                CardAction.Assign,
                CardAction.Suppress,
                // Patching cannot close an open port: no patch action on network reachability findings.
                .. ec2.Count > 0 && group.Meta.Type != FindingType.NetworkReachability ? [CardAction.RequestPatch] : Array.Empty<CardAction>(),
                .. features.Isolation && ec2.Count > 0 && group.InspectorScore >= 9.0 ? [CardAction.RequestIsolation] : Array.Empty<CardAction>(),
            ],
        };
    }

    private static string PatchUnavailable(GroupMeta meta)
    {
        var fix = meta.FixedVersions.Count > 0 ? $"ship fixed version {string.Join(", ", meta.FixedVersions)}" : "no fixed version published yet";
        return meta.Type switch
        {
            FindingType.NetworkReachability => "Network exposure: change the security group or network ACL.",
            FindingType.CodeVulnerability => "Code finding: fix the code and redeploy.",
            _ => $"Not an SSM-managed EC2 instance: rebuild and redeploy ({fix}).",
        };
    }

    private static string? VulnerabilityUrl(GroupMeta meta)
    {
        if (meta.VulnerabilityId.StartsWith("CVE-", StringComparison.OrdinalIgnoreCase))
        {
            return $"https://nvd.nist.gov/vuln/detail/{Uri.EscapeDataString(meta.VulnerabilityId)}";
        }
        return meta.SourceUrl is { } url && Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme == Uri.UriSchemeHttps
            ? url
            : null;
    }

    private static string? Truncate(string? text, int max) =>
        text is null || text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
}
