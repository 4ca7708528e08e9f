namespace ChatOpsInspector.Findings;

/// <summary>Inspector severities, ordered so that comparisons read naturally (Critical &gt; High).</summary>
internal enum Severity
{
    Informational = 0,
    Untriaged = 1,
    Low = 2,
    Medium = 3,
    High = 4,
    Critical = 5,
}

internal enum FindingStatus
{
    Active,
    Suppressed,
    Closed,
}

/// <summary>How a finding reached the bot. Inspector's own event carries the most detail.</summary>
internal enum FindingOrigin
{
    Inspector,
    SecurityHubAsff,
    SecurityHubOcsf,
}

internal enum FindingType
{
    PackageVulnerability,
    NetworkReachability,
    CodeVulnerability,
}

/// <summary>One Inspector2 finding as the bot understands it, independent of how it arrived.</summary>
internal sealed record Finding
{
    public required string FindingArn { get; init; }
    public required string AwsAccountId { get; init; }
    public required string Region { get; init; }
    public required FindingType Type { get; init; }
    public required Severity Severity { get; init; }
    public required FindingStatus Status { get; init; }
    public required string Title { get; init; }
    public string? Description { get; init; }

    /// <summary>CVE id, GHSA id, code detector id or a synthetic network-path id: what groups findings.</summary>
    public required string VulnerabilityId { get; init; }

    public double? InspectorScore { get; init; }
    public CvssScore? Cvss { get; init; }
    public double? Epss { get; init; }
    public bool ExploitAvailable { get; init; }
    public DateTimeOffset? ExploitLastSeenAt { get; init; }

    /// <summary>YES, NO or PARTIAL as Inspector reports it.</summary>
    public string FixAvailable { get; init; } = "NO";

    public IReadOnlyList<VulnerablePackage> Packages { get; init; } = [];
    public IReadOnlyList<FindingResource> Resources { get; init; } = [];
    public string? Remediation { get; init; }
    public string? RemediationUrl { get; init; }
    public IReadOnlyList<string> ReferenceUrls { get; init; } = [];
    public string? SourceUrl { get; init; }
    public NetworkPath? Network { get; init; }
    public CodeLocation? Code { get; init; }

    public required DateTimeOffset FirstObservedAt { get; init; }
    public required DateTimeOffset LastObservedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    public FindingOrigin Origin { get; init; } = FindingOrigin.Inspector;

    /// <summary>
    /// Security Hub's product ARN (ASFF <c>ProductArn</c>, OCSF <c>metadata.product.uid</c>) and the
    /// product's own finding id, for findings of products other than Inspector: status write-back names
    /// a finding by them. Null for Inspector findings, whose identifiers follow from the ARN.
    /// </summary>
    public string? ProductArn { get; init; }

    public string? ProductFindingId { get; init; }

    public FindingResource PrimaryResource => Resources[0];

    public IEnumerable<string> FixedVersions =>
        Packages.Select(p => p.FixedInVersion).Where(v => !string.IsNullOrEmpty(v) && v != "NotAvailable").Distinct()!;
}

internal sealed record CvssScore(string Version, double BaseScore, string Vector, string Source);

internal sealed record VulnerablePackage(
    string Name,
    string? Version,
    string? FixedInVersion,
    string? PackageManager,
    string? FilePath,
    string? Remediation);

internal sealed record FindingResource
{
    public required string Type { get; init; }
    public required string Id { get; init; }
    public required string Region { get; init; }
    public string? Partition { get; init; }
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>ECR repository name, for routing by repository.</summary>
    public string? EcrRepository { get; init; }

    public IReadOnlyList<string> ImageTags { get; init; } = [];

    /// <summary>Lambda function name, for routing by function glob.</summary>
    public string? LambdaFunction { get; init; }

    public string? Platform { get; init; }

    /// <summary>ECR image digest (<c>awsEcrContainerImage.imageHash</c>).</summary>
    public string? ImageDigest { get; init; }

    /// <summary>Lambda runtime as Inspector names it (<c>PYTHON_3_11</c>).</summary>
    public string? LambdaRuntime { get; init; }

    public bool IsEc2Instance => Type == ResourceTypes.Ec2Instance;
}

internal sealed record NetworkPath(string Protocol, int? PortBegin, int? PortEnd, string? Summary)
{
    /// <summary>The hops from the outside in (<c>networkPath.steps</c>): internet gateway, ACL, security group, ENI, instance.</summary>
    public IReadOnlyList<NetworkStep> Steps { get; init; } = [];
}

/// <summary>One hop of a network path: <c>componentId</c> and <c>componentType</c> (<c>AWS::EC2::SecurityGroup</c>).</summary>
internal sealed record NetworkStep(string ComponentId, string ComponentType);

internal sealed record CodeLocation(string? DetectorName, string? FilePath, int? StartLine, int? EndLine, IReadOnlyList<string> Cwes);

internal static class ResourceTypes
{
    public const string Ec2Instance = "AWS_EC2_INSTANCE";
    public const string EcrContainerImage = "AWS_ECR_CONTAINER_IMAGE";
    public const string EcrRepository = "AWS_ECR_REPOSITORY";
    public const string LambdaFunction = "AWS_LAMBDA_FUNCTION";
}
