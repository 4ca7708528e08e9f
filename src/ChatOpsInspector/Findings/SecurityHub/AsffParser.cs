using System.Text.Json;

namespace ChatOpsInspector.Findings.SecurityHub;

/// <summary>
/// Reads one finding in the AWS Security Finding Format (ASFF), as Security Hub CSPM publishes it in
/// "Security Hub Findings - Imported" events. Field names follow the ASFF syntax in the Security Hub
/// user guide and the <c>AwsSecurityFinding</c> shape of the Security Hub API model. A finding without
/// <c>Vulnerabilities</c> is not about a vulnerability: null without errors.
/// </summary>
internal static class AsffParser
{
    private const string InspectorScoreField = "aws/inspector/inspectorScore";
    private const string InspectorStatusField = "aws/inspector/FindingStatus";

    public static Finding? Parse(JsonElement item, string path, EventEnvelope envelope, List<string> errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path} must be an ASFF finding object.");
            return null;
        }
        var before = errors.Count;
        var f = new JsonFields(item, path, errors);
        var id = f.String("Id", required: true);
        var productArn = f.String("ProductArn", required: true);
        var account = f.String("AwsAccountId", required: true);
        var updatedAt = f.Time("UpdatedAt");
        if (updatedAt is null && errors.Count == before)
        {
            errors.Add($"{path}.UpdatedAt is required.");
        }
        var vulnerabilities = f.Objects("Vulnerabilities").ToArray();
        var vulnerability = vulnerabilities.FirstOrDefault();
        var vulnerabilityId = vulnerabilities.Length > 0 ? vulnerability.String("Id", required: true) : null;
        if (errors.Count > before)
        {
            return null;
        }
        if (vulnerabilities.Length == 0)
        {
            return null;
        }
        var key = SecurityHubFindings.Key(productArn!, id!, path, errors);
        var productFields = f.StringMap("ProductFields");
        var resources = Resources(f, envelope, productFields);
        if (resources.Count == 0)
        {
            errors.Add($"{path}.Resources must name at least one resource.");
        }
        if (key is null || errors.Count > before)
        {
            return null;
        }

        var packages = vulnerability.Objects("VulnerablePackages").Select(p => new VulnerablePackage(
            p.String("Name") ?? "(unnamed)",
            p.String("Version"),
            p.String("FixedInVersion"),
            p.String("PackageManager"),
            p.String("FilePath"),
            p.String("Remediation"))).ToArray();
        var cvss = vulnerability.Objects("Cvss")
            .Select(c => (Vector: c.String("BaseVector"), c))
            .Where(c => c.Vector is not null)
            .Select(c => new CvssScore(c.c.String("Version") ?? "", c.c.Number("BaseScore") ?? 0, c.Vector!, c.c.String("Source") ?? ""))
            .FirstOrDefault();
        var recommendation = f.Object("Remediation")?.Object("Recommendation");
        var remediation = recommendation?.String("Text");
        var inspector = SecurityHubFindings.IsInspectorArn(id!);
        var firstObserved = f.Time("FirstObservedAt") ?? f.Time("CreatedAt") ?? updatedAt!.Value;
        var finding = new Finding
        {
            FindingArn = key,
            AwsAccountId = account!,
            Region = f.String("Region") ?? (resources[0].Region is { Length: > 0 } r ? r : envelope.Region),
            Type = FindingType.PackageVulnerability,
            Severity = Severity(f.Object("Severity")?.String("Label")),
            Status = Status(f.String("RecordState"), productFields.GetValueOrDefault(InspectorStatusField)),
            Title = f.String("Title") ?? vulnerabilityId!,
            Description = f.String("Description"),
            VulnerabilityId = vulnerabilityId!,
            InspectorScore = double.TryParse(productFields.GetValueOrDefault(InspectorScoreField), System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out var score) && double.IsFinite(score) ? score : null,
            Cvss = cvss,
            Epss = vulnerability.Number("EpssScore"),
            ExploitAvailable = string.Equals(vulnerability.String("ExploitAvailable"), "YES", StringComparison.OrdinalIgnoreCase),
            FixAvailable = (vulnerability.String("FixAvailable") ?? "NO").ToUpperInvariant(),
            Packages = packages,
            Resources = resources,
            Remediation = remediation is { Length: > 0 } and not "None Provided" ? remediation : null,
            RemediationUrl = recommendation?.String("Url"),
            ReferenceUrls = vulnerability.Strings("ReferenceUrls"),
            SourceUrl = vulnerability.Object("Vendor")?.String("Url"),
            FirstObservedAt = firstObserved,
            LastObservedAt = f.Time("LastObservedAt") ?? updatedAt!.Value,
            UpdatedAt = updatedAt!.Value,
            Origin = FindingOrigin.SecurityHubAsff,
            ProductArn = inspector ? null : productArn,
            ProductFindingId = inspector ? null : id,
        };
        return errors.Count > before ? null : finding;
    }

    private static List<FindingResource> Resources(JsonFields f, EventEnvelope envelope, Dictionary<string, string> productFields)
    {
        var list = new List<FindingResource>();
        var index = 0;
        foreach (var r in f.Objects("Resources"))
        {
            // Inspector puts each resource's platform in ProductFields, numbered from 1.
            var platformPrefix = $"aws/inspector/resources/{++index}/resourceDetails/";
            var platform = productFields.FirstOrDefault(p => p.Key.StartsWith(platformPrefix, StringComparison.Ordinal)
                && p.Key.EndsWith("/platform", StringComparison.Ordinal)).Value;
            var rawType = r.String("Type", required: true);
            var rawId = r.String("Id", required: true);
            if (rawType is null || rawId is null)
            {
                continue;
            }
            var type = SecurityHubFindings.ResourceType(rawType);
            var details = r.Object("Details");
            var ecr = details?.Object("AwsEcrContainerImage");
            var lambda = details?.Object("AwsLambdaFunction");
            list.Add(new FindingResource
            {
                Type = type,
                Id = SecurityHubFindings.ResourceId(type, rawId),
                Region = r.String("Region") ?? SecurityHubFindings.RegionFromArn(rawId) ?? envelope.Region,
                Partition = r.String("Partition"),
                Tags = r.StringMap("Tags"),
                EcrRepository = ecr?.String("RepositoryName"),
                ImageTags = ecr?.Strings("ImageTags") ?? [],
                LambdaFunction = lambda?.String("FunctionName"),
                Platform = platform ?? lambda?.String("Runtime"),
            });
        }
        return list;
    }

    internal static Severity Severity(string? label) => label?.ToUpperInvariant() switch
    {
        "CRITICAL" => Findings.Severity.Critical,
        "HIGH" => Findings.Severity.High,
        "MEDIUM" => Findings.Severity.Medium,
        "LOW" => Findings.Severity.Low,
        _ => Findings.Severity.Informational,
    };

    /// <summary>
    /// ARCHIVED is how a provider closes a finding; Inspector also says its own status. The workflow
    /// status is the customer's (and this bot's write-back), so it never reopens or closes anything here.
    /// </summary>
    private static FindingStatus Status(string? recordState, string? inspectorStatus)
    {
        if (string.Equals(recordState, "ARCHIVED", StringComparison.OrdinalIgnoreCase))
        {
            return FindingStatus.Closed;
        }
        return inspectorStatus?.ToUpperInvariant() switch
        {
            "CLOSED" => FindingStatus.Closed,
            "SUPPRESSED" => FindingStatus.Suppressed,
            _ => FindingStatus.Active,
        };
    }
}
