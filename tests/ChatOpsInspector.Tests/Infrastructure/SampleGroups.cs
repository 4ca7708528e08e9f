using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Infrastructure;

/// <summary>A realistic critical alert group (the snapd CVE of the official sample) for card tests on every platform.</summary>
internal static class SampleGroups
{
    public static AlertGroup Critical(
        DateTimeOffset now,
        string id,
        string owner,
        TimeSpan firstSeenAgo,
        TimeSpan slaDueIn,
        double epss,
        int resources = 1,
        WorkflowState? workflow = null,
        string title = "CVE-2024-29069 - snapd",
        string? description = "snapd before 2.62 did not check the destination of symlinks.",
        Dictionary<string, string>? tags = null,
        string resourceType = ResourceTypes.Ec2Instance,
        string vulnerabilityId = "CVE-2024-29069",
        string? slackChannel = null) => new()
    {
        Id = id,
        Version = 1,
        Workflow = workflow ?? new WorkflowState(),
        Meta = new GroupMeta
        {
            Owner = owner,
            VulnerabilityId = vulnerabilityId,
            Title = title,
            Type = FindingType.PackageVulnerability,
            Severity = Severity.Critical,
            InspectorScore = 9.8,
            Cvss = new CvssScore("3.1", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "NVD"),
            Epss = epss,
            ExploitAvailable = true,
            FixAvailable = "YES",
            FixedVersions = ["0:2.63+22.04ubuntu0.1"],
            Packages = ["snapd"],
            Description = description,
            FirstSeenAt = now - firstSeenAgo,
            SlaDueAt = now + slaDueIn,
            Alerting = true,
            Environment = "prod",
            SlackChannel = slackChannel,
            Region = "eu-central-1",
        },
        Members = Enumerable.Range(0, resources).Select(i => new GroupMember
        {
            FindingArn = $"arn:aws:inspector2:eu-central-1:123456789012:finding/f{i}",
            ResourceType = resourceType,
            ResourceId = $"i-{i:x17}",
            Region = "eu-central-1",
            AccountId = "123456789012",
            Status = FindingStatus.Active,
            Severity = Severity.Critical,
            InspectorScore = 9.8,
            Tags = tags ?? new Dictionary<string, string> { ["app"] = "payments" },
            FirstObservedAt = now - firstSeenAgo,
            UpdatedAt = now - firstSeenAgo + TimeSpan.FromHours(2),
        }).ToArray(),
    };
}
