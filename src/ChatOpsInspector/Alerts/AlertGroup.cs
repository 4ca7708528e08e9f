using ChatOpsInspector.Findings;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Alerts;

/// <summary>
/// One alert per (owner, vulnerability): what the card shows. Figures such as worst severity and open
/// count are derived from <see cref="Members"/> when the group is read, so ingest only ever appends.
/// </summary>
internal sealed record AlertGroup
{
    public required string Id { get; init; }
    public required GroupMeta Meta { get; init; }
    public required IReadOnlyList<GroupMember> Members { get; init; }
    public required WorkflowState Workflow { get; init; }

    /// <summary>Compare-and-set version of <see cref="Workflow"/>.</summary>
    public required long Version { get; init; }

    /// <summary>Counts the findings stored into the group; with <see cref="Version"/> it stamps the group's content.</summary>
    public long Revision { get; init; }

    /// <summary>Changes whenever anything a <see cref="GroupSummary"/> shows may have changed.</summary>
    public string Stamp => $"{Revision}:{Version}";

    public IReadOnlyDictionary<string, ChatMessageRef> Cards { get; init; } = new Dictionary<string, ChatMessageRef>();

    public string Owner => Meta.Owner;
    public string VulnerabilityId => Meta.VulnerabilityId;

    public IEnumerable<GroupMember> OpenMembers => Members.Where(m => m.Status != FindingStatus.Closed);

    public int OpenCount => Members.Count(m => m.Status == FindingStatus.Active);
    public int SuppressedCount => Members.Count(m => m.Status == FindingStatus.Suppressed);
    public int FixedCount => Members.Count(m => m.Status == FindingStatus.Closed);

    public Severity Severity => Members.Count == 0 ? Meta.Severity : Members.Max(m => m.Severity);
    public double? InspectorScore => Members.Max(m => m.InspectorScore) ?? Meta.InspectorScore;
    public double? Epss => Members.Max(m => m.Epss) ?? Meta.Epss;
    public bool ExploitAvailable => Meta.ExploitAvailable || Members.Any(m => m.ExploitAvailable);

    /// <summary>EC2 instances that are still affected: the only thing an SSM patch can act on.</summary>
    public IReadOnlyList<string> OpenEc2Instances =>
        OpenMembers.Where(m => m.ResourceType == ResourceTypes.Ec2Instance).Select(m => m.ResourceId).Distinct().ToArray();

    public DateTimeOffset FirstSeenAt => Members.Count == 0 ? Meta.FirstSeenAt : Members.Min(m => m.FirstObservedAt);

    /// <summary>Distinct affected resources, open ones first.</summary>
    public IReadOnlyList<GroupMember> Resources => Members
        .OrderBy(m => m.Status == FindingStatus.Closed)
        .ThenByDescending(m => m.Severity)
        .ThenBy(m => m.ResourceId, StringComparer.Ordinal)
        .DistinctBy(m => m.ResourceId)
        .ToArray();
}

/// <summary>What the group is about; overwritten by each newer finding so the text stays current.</summary>
internal sealed record GroupMeta
{
    public required string Owner { get; init; }
    public required string VulnerabilityId { get; init; }
    public required string Title { get; init; }
    public required FindingType Type { get; init; }
    public required Severity Severity { get; init; }
    public double? InspectorScore { get; init; }
    public CvssScore? Cvss { get; init; }
    public double? Epss { get; init; }
    public bool ExploitAvailable { get; init; }
    public string FixAvailable { get; init; } = "NO";
    public IReadOnlyList<string> FixedVersions { get; init; } = [];
    public IReadOnlyList<string> Packages { get; init; } = [];
    public string? Description { get; init; }
    public string? Remediation { get; init; }
    public string? SourceUrl { get; init; }
    public IReadOnlyList<string> ReferenceUrls { get; init; } = [];

    /// <summary>Package, installed version and the version that fixes it (the first few of the finding).</summary>
    public IReadOnlyList<VulnerablePackage> VulnerablePackages { get; init; } = [];

    /// <summary>Port range and path of a network reachability finding.</summary>
    public NetworkPath? Network { get; init; }

    /// <summary>File, lines, detector and CWEs of a code finding.</summary>
    public CodeLocation? Code { get; init; }

    public required DateTimeOffset FirstSeenAt { get; init; }
    public required DateTimeOffset SlaDueAt { get; init; }
    public int Priority { get; init; }
    public bool Alerting { get; init; }
    public string? Environment { get; init; }
    public string? SlackChannel { get; init; }
    public string? TeamsChannel { get; init; }
    public string Region { get; init; } = "";

    /// <summary>Network reachability: protocol and open port range, which a suppression filter names.</summary>
    public string? NetworkProtocol { get; init; }
    public int? PortBegin { get; init; }
    public int? PortEnd { get; init; }

    /// <summary>Code vulnerability: the detector's name, as Inspector's <c>codeVulnerabilityDetectorName</c> criterion takes it.</summary>
    public string? CodeDetectorName { get; init; }
}

/// <summary>One finding in a group: a resource affected by the vulnerability.</summary>
internal sealed record GroupMember
{
    public required string FindingArn { get; init; }
    public required string ResourceType { get; init; }
    public required string ResourceId { get; init; }
    public required string Region { get; init; }
    public required string AccountId { get; init; }

    /// <summary>The account's name from <c>Accounts</c> when the finding arrived, so cards say "payments-prod", not a number.</summary>
    public string? AccountName { get; init; }

    public required FindingStatus Status { get; init; }
    public required Severity Severity { get; init; }
    public double? InspectorScore { get; init; }
    public double? Epss { get; init; }
    public bool ExploitAvailable { get; init; }
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    public required DateTimeOffset FirstObservedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>What a responder calls the resource, beyond its id: image repository, tags and digest; function and runtime.</summary>
    public string? EcrRepository { get; init; }
    public IReadOnlyList<string> ImageTags { get; init; } = [];
    public string? ImageDigest { get; init; }
    public string? LambdaFunction { get; init; }
    public string? LambdaRuntime { get; init; }

    /// <summary>Null for Inspector's own event (and every member stored before Security Hub was read).</summary>
    public FindingOrigin? Origin { get; init; }

    /// <summary>Security Hub identifiers of a finding from another product (see <see cref="Finding.ProductArn"/>).</summary>
    public string? ProductArn { get; init; }

    public string? ProductFindingId { get; init; }

    /// <summary>Code file path: with the repository and function above, what a suppression filter narrows to.</summary>
    public string? CodeFilePath { get; init; }
}

/// <summary>Where a group's card lives on one platform: Slack channel + ts, or Teams conversation + activity id.</summary>
internal sealed record ChatMessageRef(string Platform, string Channel, string MessageId, string? ThreadId = null)
{
    /// <summary>When the card was first posted: time to acknowledge runs from here. Null for cards stored before it was kept.</summary>
    public DateTimeOffset? PostedAt { get; init; }
}
