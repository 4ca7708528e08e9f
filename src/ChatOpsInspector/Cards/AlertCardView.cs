using ChatOpsInspector.Findings;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Cards;

/// <summary>
/// Platform-neutral content of an alert card. All text is plain and unescaped: the Slack and Teams
/// renderers escape it for their own markup.
/// </summary>
internal sealed record AlertCardView
{
    public required string GroupId { get; init; }
    public required string Owner { get; init; }

    /// <summary>What groups the findings (a CVE, a detector id, or the bot's own network key); <see cref="ShownId"/> is what people read.</summary>
    public required string VulnerabilityId { get; init; }

    /// <summary>The id worth showing: the CVE/GHSA id, the CWE ids of a code finding; null for network exposure.</summary>
    public string? ShownId { get; init; }

    public FindingType Type { get; init; }

    /// <summary>"Package vulnerability", "Network exposure", "Code vulnerability".</summary>
    public string KindLabel { get; init; } = "";

    /// <summary>How the card should look: open, in progress, breached, resolved or suppressed.</summary>
    public CardLook Look { get; init; }
    public required string Title { get; init; }
    public required Severity Severity { get; init; }
    public required string PriorityLabel { get; init; }
    public double? InspectorScore { get; init; }
    public string? CvssVector { get; init; }
    public double? CvssBaseScore { get; init; }
    public double? Epss { get; init; }
    public bool ExploitAvailable { get; init; }

    /// <summary>"Yes"/"No" where Inspector judges exploits (package findings); null where it does not apply.</summary>
    public string? ExploitLabel { get; init; }
    public required string FixAvailable { get; init; }

    /// <summary>"Fix available", "No fix yet", "Partial fix"; null where it does not apply (network, code).</summary>
    public string? FixLabel { get; init; }

    /// <summary>Package, installed version, fixed version (package findings).</summary>
    public IReadOnlyList<PackageLine> PackageLines { get; init; } = [];
    public int MorePackages { get; init; }

    public CodeView? Code { get; init; }
    public NetworkView? Network { get; init; }

    /// <summary>The next step: remediation text, whole (URLs are never cut).</summary>
    public string? NextStep { get; init; }

    /// <summary>https links a responder follows (remediation and reference pages), labelled by host.</summary>
    public IReadOnlyList<CardLink> Links { get; init; } = [];

    /// <summary>Where the SLA stands in words ("on track", "due soon", "overdue by 2 d 4 h"); null once resolved or suppressed.</summary>
    public string? SlaStage { get; init; }

    /// <summary>"Fixed in 3 h" on a resolved card.</summary>
    public string? ResolvedLine { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }

    public SuppressionView? Suppression { get; init; }
    public IReadOnlyList<string> FixedVersions { get; init; } = [];
    public IReadOnlyList<string> Packages { get; init; } = [];
    public string? Description { get; init; }
    public string? Remediation { get; init; }
    public string? Environment { get; init; }
    public required DateTimeOffset FirstSeenAt { get; init; }
    public required DateTimeOffset SlaDueAt { get; init; }
    public bool SlaBreached { get; init; }
    public required int OpenCount { get; init; }
    public required int FixedCount { get; init; }
    public required int ResourceCount { get; init; }

    /// <summary>The first few resources; <see cref="MoreResources"/> says how many were left out.</summary>
    public required IReadOnlyList<CardResource> Resources { get; init; }
    public int MoreResources { get; init; }

    public required GroupState State { get; init; }
    public required string StateLabel { get; init; }

    /// <summary>Who did what, oldest first ("Acknowledged by Ana · 2026-11-27 10:02 UTC").</summary>
    public IReadOnlyList<string> StateLines { get; init; } = [];
    public string? PatchProgress { get; init; }

    /// <summary>
    /// What an approver approves, shown before they approve: runbook, operation, reboot option, the
    /// instance count and their Name tags ("AWS-RunPatchBaseline · Install · RebootIfNeeded (may reboot) · 3 instances: web-1, …").
    /// </summary>
    public string? ApprovalSummary { get; init; }

    /// <summary>True while the bot checks SSM for a new request (no decision possible yet).</summary>
    public bool Checking { get; init; }

    /// <summary>"patch", "isolation" or "release": the words of the current or pending run.</summary>
    public string RunNoun { get; init; } = "patch";

    /// <summary>The pending patch request that Approve/Reject buttons decide, so a stale card cannot decide a newer one.</summary>
    public string? PatchRequestId { get; init; }

    public required string InspectorConsoleUrl { get; init; }
    public string? VulnerabilityUrl { get; init; }

    /// <summary>Buttons that make sense in this state; each viewer's rights are checked when clicked.</summary>
    public required IReadOnlyList<CardAction> Actions { get; init; }

    /// <summary>Shown instead of "Request patch" where SSM cannot patch (images, functions, code).</summary>
    public string? PatchUnavailableReason { get; init; }

    /// <summary>One-line summary used as notification text and screen-reader fallback.</summary>
    public required string FallbackText { get; init; }
}

internal sealed record CardResource(
    string Type,
    string Id,
    string Region,
    string Account,
    string Status,
    IReadOnlyList<KeyValuePair<string, string>> Tags)
{
    /// <summary>"EC2 instance", "ECR image", "Lambda function".</summary>
    public string TypeLabel { get; init; } = Type;

    /// <summary>What people call it: the Name tag, repository:tag @digest, function (runtime); null when only the id is known.</summary>
    public string? Name { get; init; }

    /// <summary>"Open", "Fixed", "Suppressed".</summary>
    public string StatusLabel { get; init; } = Status;
}

/// <summary>How a card looks: the colour and the words of its header.</summary>
internal enum CardLook
{
    Open,
    InProgress,
    Breached,
    Resolved,
    Suppressed,
}

internal sealed record PackageLine(string Name, string? Installed, string? FixedIn);

/// <summary>Where in the code: <c>lambda_function.py:6</c>, the detector, and the CWEs with their MITRE pages.</summary>
internal sealed record CodeView(string? Location, string? Detector, IReadOnlyList<CardLink> Cwes);

/// <summary>What is open ("TCP port 22"), the hops from the internet in, and the security groups to change.</summary>
internal sealed record NetworkView(string Exposure, IReadOnlyList<NetworkHop> Path, IReadOnlyList<string> SecurityGroups, IReadOnlyList<string> NetworkAcls);

internal sealed record NetworkHop(string Label, string Id);

internal sealed record CardLink(string Label, string Url);

internal sealed record SuppressionView(DateTimeOffset Until, string By, string Reason);

/// <summary>Actions a card can offer. The string ids are stable: they travel in button payloads.</summary>
internal enum CardAction
{
    Acknowledge,
    Assign,
    Suppress,
    Unsuppress,
    RequestPatch,
    ApprovePatch,
    RejectPatch,
    RequestIsolation,
    Release,
}

internal static class CardActionIds
{
    public const string Acknowledge = "ack";
    public const string Assign = "assign";
    public const string Suppress = "suppress";
    public const string Unsuppress = "unsuppress";
    public const string RequestPatch = "patch";
    public const string ApprovePatch = "approve";
    public const string RejectPatch = "reject";
    public const string RequestIsolation = "isolate";
    public const string Release = "release";

    public static string Id(this CardAction action) => action switch
    {
        CardAction.Acknowledge => Acknowledge,
        CardAction.Assign => Assign,
        CardAction.Suppress => Suppress,
        CardAction.Unsuppress => Unsuppress,
        CardAction.RequestPatch => RequestPatch,
        CardAction.ApprovePatch => ApprovePatch,
        CardAction.RejectPatch => RejectPatch,
        CardAction.RequestIsolation => RequestIsolation,
        CardAction.Release => Release,
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };

    public static CardAction? Parse(string? id) => id switch
    {
        Acknowledge => CardAction.Acknowledge,
        Assign => CardAction.Assign,
        Suppress => CardAction.Suppress,
        Unsuppress => CardAction.Unsuppress,
        RequestPatch => CardAction.RequestPatch,
        ApprovePatch => CardAction.ApprovePatch,
        RejectPatch => CardAction.RejectPatch,
        RequestIsolation => CardAction.RequestIsolation,
        Release => CardAction.Release,
        _ => null,
    };
}

/// <summary>Remediation the deployment offers: isolation and release only when configured.</summary>
internal sealed record CardFeatures(bool Isolation, bool Release)
{
    public static readonly CardFeatures None = new(false, false);

    public static CardFeatures From(Aws.RemediationOptions options) => new(options.IsolationEnabled, options.ReleaseEnabled);
}
