using System.Text.Json;

namespace ChatOpsInspector.Findings.SecurityHub;

/// <summary>
/// Reads one finding in OCSF, as Security Hub publishes it in "Findings Imported V2" events. Field
/// names follow the OCSF schema's <c>vulnerability_finding</c> class (class_uid 2002) and its
/// <c>finding_info</c>, <c>vulnerability</c>, <c>cve</c>, <c>cvss</c>, <c>epss</c> and
/// <c>affected_package</c> objects. Any other class is not about a vulnerability: null without errors.
/// </summary>
internal static class OcsfParser
{
    public const int VulnerabilityFindingClass = 2002;

    public static Finding? Parse(JsonElement item, string path, EventEnvelope envelope, List<string> errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path} must be an OCSF finding object.");
            return null;
        }
        var before = errors.Count;
        var f = new JsonFields(item, path, errors);
        var classUid = f.Number("class_uid");
        if (classUid is null && errors.Count == before)
        {
            errors.Add($"{path}.class_uid is required.");
        }
        var info = f.Object("finding_info");
        var uid = info?.String("uid", required: true);
        if (info is null && errors.Count == before)
        {
            errors.Add($"{path}.finding_info is required.");
        }
        var productUid = f.Object("metadata")?.Object("product")?.String("uid", required: true);
        if (productUid is null && errors.Count == before)
        {
            errors.Add($"{path}.metadata.product.uid is required.");
        }
        var cloud = f.Object("cloud");
        var account = cloud?.Object("account")?.String("uid");
        if (account is null && errors.Count == before)
        {
            errors.Add($"{path}.cloud.account.uid is required.");
        }
        var updatedAt = info?.Time("modified_time") ?? info?.Time("modified_time_dt") ?? f.Time("time") ?? f.Time("time_dt");
        if (updatedAt is null && errors.Count == before)
        {
            errors.Add($"{path}.finding_info.modified_time (or time) is required.");
        }
        if (errors.Count > before || (int)classUid!.Value != VulnerabilityFindingClass)
        {
            return null;
        }
        var vulnerabilities = f.Objects("vulnerabilities").ToArray();
        if (vulnerabilities.Length == 0)
        {
            errors.Add($"{path}.vulnerabilities is required for a vulnerability finding.");
            return null;
        }
        var vulnerability = vulnerabilities[0];
        var cve = vulnerability.Object("cve");
        var vulnerabilityId = cve?.String("uid") ?? vulnerability.String("title");
        if (vulnerabilityId is null && errors.Count == before)
        {
            errors.Add($"{path}.vulnerabilities[0].cve.uid is required.");
        }
        var key = uid is null ? null : SecurityHubFindings.Key(productUid!, uid, path, errors);
        var resources = Resources(f, envelope);
        if (resources.Count == 0 && errors.Count == before)
        {
            errors.Add($"{path}.resources must name at least one resource.");
        }
        if (key is null || errors.Count > before)
        {
            return null;
        }

        var cvss = (cve?.Objects("cvss") ?? [])
            .Select(c => (Vector: c.String("vector_string"), c))
            .Where(c => c.Vector is not null)
            .Select(c => new CvssScore(c.c.String("version") ?? "", c.c.Number("base_score") ?? 0, c.Vector!, c.c.String("vendor_name") ?? ""))
            .FirstOrDefault();
        var packages = vulnerability.Objects("affected_packages").Select(p => new VulnerablePackage(
            p.String("name") ?? "(unnamed)",
            p.String("version"),
            p.String("fixed_in_version"),
            p.String("package_manager"),
            p.String("path"),
            p.Object("remediation")?.String("desc"))).ToArray();
        var inspector = SecurityHubFindings.IsInspectorArn(uid!);
        var fix = vulnerability.Bool("is_fix_available") ?? vulnerability.Bool("fix_available");
        var remediation = vulnerability.Object("remediation")?.String("desc") ?? f.Object("remediation")?.String("desc");
        var finding = new Finding
        {
            FindingArn = key,
            AwsAccountId = account!,
            Region = cloud?.String("region") ?? (resources[0].Region is { Length: > 0 } r ? r : envelope.Region),
            Type = FindingType.PackageVulnerability,
            Severity = Severity((int?)f.Number("severity_id")),
            Status = Status((int?)f.Number("status_id"), (int?)f.Number("activity_id")),
            Title = info!.Value.String("title") ?? vulnerabilityId!,
            Description = info.Value.String("desc"),
            VulnerabilityId = vulnerabilityId!,
            Cvss = cvss,
            Epss = cve?.Object("epss")?.Number("score"),
            ExploitAvailable = vulnerability.Bool("is_exploit_available") ?? false,
            FixAvailable = fix switch { true => "YES", false => "NO", null => "NO" },
            Packages = packages,
            Resources = resources,
            Remediation = remediation,
            ReferenceUrls = vulnerability.Strings("references"),
            FirstObservedAt = info.Value.Time("first_seen_time") ?? info.Value.Time("first_seen_time_dt")
                ?? info.Value.Time("created_time") ?? info.Value.Time("created_time_dt") ?? updatedAt!.Value,
            LastObservedAt = info.Value.Time("last_seen_time") ?? info.Value.Time("last_seen_time_dt") ?? updatedAt!.Value,
            UpdatedAt = updatedAt!.Value,
            Origin = FindingOrigin.SecurityHubOcsf,
            ProductArn = inspector ? null : productUid,
            ProductFindingId = inspector ? null : uid,
        };
        return errors.Count > before ? null : finding;
    }

    private static List<FindingResource> Resources(JsonFields f, EventEnvelope envelope)
    {
        var list = new List<FindingResource>();
        foreach (var r in f.Objects("resources"))
        {
            var rawType = r.String("type") ?? "";
            var rawId = r.String("uid", required: true);
            if (rawId is null)
            {
                continue;
            }
            var type = SecurityHubFindings.ResourceType(rawType);
            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            // OCSF tags are a list of key_value_pair objects, not a map.
            foreach (var tag in r.Objects("tags"))
            {
                if (tag.String("name") is { } name && tag.String("value") is { } value)
                {
                    tags[name] = value;
                }
            }
            list.Add(new FindingResource
            {
                Type = type,
                Id = SecurityHubFindings.ResourceId(type, rawId),
                Region = r.String("region") ?? SecurityHubFindings.RegionFromArn(rawId) ?? envelope.Region,
                Partition = r.String("cloud_partition"),
                Tags = tags,
                EcrRepository = type == ResourceTypes.EcrRepository ? rawId.Split('/').LastOrDefault() : null,
                LambdaFunction = type == ResourceTypes.LambdaFunction ? rawId.Split(':').ElementAtOrDefault(6) : null,
            });
        }
        return list;
    }

    /// <summary>OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal.</summary>
    private static Severity Severity(int? id) => id switch
    {
        >= 5 and <= 6 => Findings.Severity.Critical,
        4 => Findings.Severity.High,
        3 => Findings.Severity.Medium,
        2 => Findings.Severity.Low,
        _ => Findings.Severity.Informational,
    };

    /// <summary>
    /// OCSF status_id 4 Resolved and 5 Archived, or activity_id 3 Close, end a finding. 3 Suppressed
    /// is a customer's (or this bot's) decision and is left to the workflow.
    /// </summary>
    private static FindingStatus Status(int? statusId, int? activityId) =>
        statusId is 4 or 5 || activityId == 3 ? FindingStatus.Closed : FindingStatus.Active;
}
