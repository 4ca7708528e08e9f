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

        var look = wf.State switch
        {
            GroupState.Resolved => CardLook.Resolved,
            GroupState.Suppressed => CardLook.Suppressed,
            _ when breached => CardLook.Breached,
            GroupState.New => CardLook.Open,
            _ => CardLook.InProgress,
        };
        var isPackage = meta.Type == FindingType.PackageVulnerability;
        var shownId = ShownId(meta);
        var nextStep = NextStep(meta);

        return new AlertCardView
        {
            GroupId = group.Id,
            Owner = meta.Owner,
            VulnerabilityId = meta.VulnerabilityId,
            ShownId = shownId,
            Type = meta.Type,
            KindLabel = CardWords.FindingType(meta.Type),
            Look = look,
            Title = meta.Title,
            Severity = group.Severity,
            PriorityLabel = PriorityLabel(meta.Priority),
            InspectorScore = group.InspectorScore,
            CvssVector = meta.Cvss?.Vector,
            CvssBaseScore = meta.Cvss?.BaseScore,
            Epss = group.Epss,
            ExploitAvailable = group.ExploitAvailable,
            ExploitLabel = isPackage || group.ExploitAvailable ? (group.ExploitAvailable ? "Yes" : "No") : null,
            FixAvailable = meta.FixAvailable,
            FixLabel = isPackage ? CardWords.FixAvailable(meta.FixAvailable) : null,
            FixedVersions = meta.FixedVersions,
            Packages = meta.Packages,
            PackageLines = PackageLines(meta).Take(MaxPackagesShown).ToArray(),
            MorePackages = Math.Max(0, PackageLines(meta).Count() - MaxPackagesShown),
            Code = CodeOf(meta),
            Network = NetworkOf(meta),
            Description = Truncate(meta.Description, MaxDescriptionChars),
            Remediation = nextStep,
            NextStep = nextStep,
            Links = LinksOf(meta),
            Environment = meta.Environment,
            FirstSeenAt = group.FirstSeenAt,
            SlaDueAt = meta.SlaDueAt,
            SlaBreached = breached,
            SlaStage = wf.IsOpen ? SlaStage(group.FirstSeenAt, meta.SlaDueAt, now) : null,
            ResolvedAt = wf.State == GroupState.Resolved ? wf.ResolvedAt : null,
            ResolvedLine = wf.State == GroupState.Resolved
                ? (wf.TimeToFix is { } ttf ? $"Fixed in {Compact(ttf)}" : "Fixed")
                : null,
            Suppression = wf.State == GroupState.Suppressed && wf.Suppression is { } s
                ? new SuppressionView(s.ExpiresAt, s.By.DisplayName, s.Reason)
                : null,
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
            FallbackText = $"{SeverityLabel(group.Severity)} {shownId ?? CardWords.FindingType(meta.Type)}: {TitleWithoutId(meta.Title, shownId)} — "
                + (look switch
                {
                    CardLook.Resolved => "fixed",
                    CardLook.Suppressed => "suppressed",
                    _ => $"{group.OpenCount} open",
                }) + $", owner {meta.Owner}",
        };
    }

    public const int MaxPackagesShown = 5;
    public const int MaxNextStepChars = 1200;

    /// <summary>Inspector titles usually repeat the id ("CVE-2024-29069 - snapd"); a card shows it once.</summary>
    public static string TitleWithoutId(string title, string? id)
    {
        if (string.IsNullOrEmpty(id) || !title.StartsWith(id, StringComparison.OrdinalIgnoreCase))
        {
            return title;
        }
        var rest = title[id.Length..].TrimStart(' ', '-', ':', '–', '—');
        return rest.Length == 0 ? title : rest;
    }

    /// <summary>Where the SLA stands, in words; the due date itself is shown as a date each reader sees in their own time zone.</summary>
    public static string SlaStage(DateTimeOffset start, DateTimeOffset due, DateTimeOffset now)
    {
        if (now >= due)
        {
            return $"Overdue by {Compact(now - due)}";
        }
        var window = due - start;
        var used = window <= TimeSpan.Zero ? 1 : (now - start) / window;
        return used switch
        {
            >= 0.9 => "Due soon",
            >= 0.5 => "Over half the time used",
            _ => "On track",
        };
    }

    /// <summary>"2 d 4 h", "3 h", "3 h 20 min", "45 min".</summary>
    public static string Compact(TimeSpan span)
    {
        span = span.Duration();
        if (span.TotalDays >= 1)
        {
            return span.Hours == 0 ? $"{(int)span.TotalDays} d" : $"{(int)span.TotalDays} d {span.Hours} h";
        }
        if (span.TotalHours >= 1)
        {
            return span.Minutes == 0 ? $"{(int)span.TotalHours} h" : $"{(int)span.TotalHours} h {span.Minutes} min";
        }
        return $"{Math.Max(1, (int)span.TotalMinutes)} min";
    }

    private static string? ShownId(GroupMeta meta) => meta.Type switch
    {
        FindingType.NetworkReachability => null,
        FindingType.CodeVulnerability => meta.Code is { Cwes.Count: > 0 } code ? string.Join(", ", code.Cwes.Take(3)) : null,
        _ => meta.VulnerabilityId,
    };

    private static IEnumerable<PackageLine> PackageLines(GroupMeta meta) =>
        meta.VulnerablePackages.Count > 0
            ? meta.VulnerablePackages.Select(p => new PackageLine(p.Name, p.Version,
                string.IsNullOrEmpty(p.FixedInVersion) || p.FixedInVersion == "NotAvailable" ? null : p.FixedInVersion)).Distinct()
            // Groups stored before packages were kept whole: names, and the fixed version when there is one.
            : meta.Packages.Select(p => new PackageLine(p, null, meta.FixedVersions.Count == 1 ? meta.FixedVersions[0] : null));

    private static CodeView? CodeOf(GroupMeta meta)
    {
        if (meta.Code is not { } code)
        {
            return null;
        }
        var location = code.FilePath is null ? null
            : code.StartLine is not { } start ? code.FilePath
            : code.EndLine is { } end && end != start ? $"{code.FilePath}:{start}-{end}"
            : $"{code.FilePath}:{start}";
        var cwes = code.Cwes
            .Select(c => (Id: c, Number: c.StartsWith("CWE-", StringComparison.OrdinalIgnoreCase) ? c[4..] : c))
            .Where(c => c.Number.Length is > 0 and <= 6 && c.Number.All(char.IsAsciiDigit))
            .Select(c => new CardLink(c.Id, $"https://cwe.mitre.org/data/definitions/{c.Number}.html"))
            .Take(5)
            .ToArray();
        return new CodeView(location, code.DetectorName, cwes);
    }

    private static NetworkView? NetworkOf(GroupMeta meta)
    {
        if (meta.Network is not { } network)
        {
            return null;
        }
        var exposure = network.PortBegin is not { } begin ? network.Protocol
            : network.PortEnd is { } end && end != begin ? $"{network.Protocol} ports {begin}-{end}"
            : $"{network.Protocol} port {begin}";
        var path = network.Steps.Select(s => new NetworkHop(CardWords.NetworkComponent(s.ComponentType), s.ComponentId)).ToArray();
        string[] Of(string type) => network.Steps.Where(s => s.ComponentType == type).Select(s => s.ComponentId).Distinct().ToArray();
        return new NetworkView(exposure, path, Of("AWS::EC2::SecurityGroup"), Of("AWS::EC2::NetworkAcl"));
    }

    /// <summary>The remediation Inspector gives, else the package manager's command; whole URLs, markdown links as plain text.</summary>
    private static string? NextStep(GroupMeta meta)
    {
        var text = meta.Remediation;
        if (string.IsNullOrWhiteSpace(text))
        {
            text = meta.VulnerablePackages.Select(p => p.Remediation).FirstOrDefault(r => !string.IsNullOrWhiteSpace(r));
        }
        return string.IsNullOrWhiteSpace(text) ? null : CardText.ShortenKeepingUrls(CardText.UnwrapMarkdownLinks(text.Trim()), MaxNextStepChars);
    }

    private static IReadOnlyList<CardLink> LinksOf(GroupMeta meta)
    {
        var urls = CardText.Urls(meta.Remediation ?? "")
            .Concat(meta.Type == FindingType.CodeVulnerability ? meta.ReferenceUrls : [])
            .Where(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && u.Length <= 2000)
            .Distinct(StringComparer.Ordinal)
            .Take(3);
        return urls.Select(u => new CardLink(new Uri(u).Host, u)).ToArray();
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
        m.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Take(5).ToArray())
    {
        TypeLabel = CardWords.ResourceType(m.ResourceType),
        Name = ResourceName(m),
        StatusLabel = CardWords.FindingStatus(m.Status),
    };

    /// <summary>What people call a resource: the EC2 Name tag, <c>repository:tag @sha256:84f507df33c6</c>, <c>function (Python 3.11)</c>.</summary>
    public static string? ResourceName(GroupMember m)
    {
        switch (m.ResourceType)
        {
            case ResourceTypes.EcrContainerImage when m.EcrRepository is { Length: > 0 } repository:
                var name = m.ImageTags.Count > 0 ? $"{repository}:{m.ImageTags[0]}" : repository;
                if (m.ImageTags.Count > 1)
                {
                    name += $" (+{m.ImageTags.Count - 1} tags)";
                }
                return m.ImageDigest is { Length: > 0 } digest ? $"{name} @{ShortDigest(digest)}" : name;
            case ResourceTypes.LambdaFunction when m.LambdaFunction is { Length: > 0 } function:
                return m.LambdaRuntime is { Length: > 0 } runtime ? $"{function} ({CardWords.Runtime(runtime)})" : function;
            default:
                return m.Tags.TryGetValue("Name", out var tagName) && !string.IsNullOrWhiteSpace(tagName) ? tagName : null;
        }
    }

    private static string ShortDigest(string digest)
    {
        var colon = digest.IndexOf(':', StringComparison.Ordinal);
        var hex = colon < 0 ? digest : digest[(colon + 1)..];
        var algorithm = colon < 0 ? "" : digest[..(colon + 1)];
        return algorithm + (hex.Length > 12 ? hex[..12] : hex);
    }

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
        // By id: the request keeps the order the store returned members in, which is no order at all.
        var names = p.InstanceIds.Order(StringComparer.Ordinal).Take(MaxInstanceNamesShown)
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
