using System.Globalization;
using System.Text.Json;

namespace ChatOpsInspector.Findings;

/// <summary>
/// Reads the Inspector2 finding object — the <c>detail</c> of an "Inspector2 Finding" event and each
/// item of ListFindings — into a <see cref="Finding"/>. Unknown fields are ignored; missing required
/// fields and wrong types are reported with their JSON path.
/// </summary>
internal static class FindingParser
{
    public static Finding? Parse(JsonElement detail, string path, List<string> errors)
    {
        if (detail.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path} must be an object.");
            return null;
        }
        var before = errors.Count;
        var r = new Reader(detail, path, errors);
        var arn = r.RequiredString("findingArn");
        if (arn is not null && (!arn.StartsWith("arn:", StringComparison.Ordinal) || arn.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))))
        {
            // The ARN names Redis keys and appears in logs and cards: control characters (ANSI escapes,
            // NUL) there are an injection, never a real finding.
            errors.Add($"{path}.findingArn must be an ARN without spaces or control characters.");
            arn = null;
        }
        var account = r.RequiredString("awsAccountId");
        var typeText = r.RequiredString("type");
        var severityText = r.RequiredString("severity");
        var statusText = r.RequiredString("status");
        var title = r.OptionalString("title");
        var updatedAt = r.RequiredTime("updatedAt");
        var firstObservedAt = r.OptionalTime("firstObservedAt");
        var lastObservedAt = r.OptionalTime("lastObservedAt");
        var resources = ParseResources(r, errors);
        var inspectorScore = r.OptionalNumber("inspectorScore");
        var epss = r.Object("epss") is { } epssObject ? new Reader(epssObject, path + ".epss", errors).OptionalNumber("score") : null;

        FindingType type = default;
        if (typeText is not null && !TryParseType(typeText, out type))
        {
            errors.Add($"{path}.type '{typeText}' is not PACKAGE_VULNERABILITY, NETWORK_REACHABILITY or CODE_VULNERABILITY.");
        }
        Severity severity = default;
        if (severityText is not null && !Enum.TryParse(severityText, ignoreCase: true, out severity))
        {
            errors.Add($"{path}.severity '{severityText}' is not an Inspector severity.");
        }
        FindingStatus status = default;
        if (statusText is not null && !Enum.TryParse(statusText, ignoreCase: true, out status))
        {
            errors.Add($"{path}.status '{statusText}' is not ACTIVE, SUPPRESSED or CLOSED.");
        }

        var package = r.Object("packageVulnerabilityDetails");
        var network = r.Object("networkReachabilityDetails");
        var code = r.Object("codeVulnerabilityDetails");
        var packages = package is null ? [] : ParsePackages(package.Value, $"{path}.packageVulnerabilityDetails", errors);
        var packageReader = package is null ? null : new Reader(package.Value, $"{path}.packageVulnerabilityDetails", errors);
        var networkPath = network is null ? null : ParseNetwork(new Reader(network.Value, $"{path}.networkReachabilityDetails", errors));
        var codeLocation = code is null ? null : ParseCode(new Reader(code.Value, $"{path}.codeVulnerabilityDetails", errors));

        var vulnerabilityId = type switch
        {
            FindingType.PackageVulnerability => packageReader?.OptionalString("vulnerabilityId"),
            FindingType.CodeVulnerability => code is null ? null : new Reader(code.Value, path, errors).OptionalString("detectorId"),
            FindingType.NetworkReachability => networkPath is null ? null
                : $"NETWORK-{networkPath.Protocol}-{networkPath.PortBegin}-{networkPath.PortEnd}",
            _ => null,
        };
        if (errors.Count == before && vulnerabilityId is null)
        {
            errors.Add(type switch
            {
                FindingType.PackageVulnerability => $"{path}.packageVulnerabilityDetails.vulnerabilityId is required for PACKAGE_VULNERABILITY.",
                FindingType.CodeVulnerability => $"{path}.codeVulnerabilityDetails.detectorId is required for CODE_VULNERABILITY.",
                _ => $"{path}.networkReachabilityDetails is required for NETWORK_REACHABILITY.",
            });
        }
        if (errors.Count > before)
        {
            return null;
        }

        var remediation = r.Object("remediation");
        var recommendation = remediation is null ? null : new Reader(remediation.Value, path, errors).Object("recommendation");
        var recommendationReader = recommendation is null ? null : new Reader(recommendation.Value, path, errors);
        var exploitability = r.Object("exploitabilityDetails");

        var referenceUrls = packageReader?.StringArray("referenceUrls") ?? [];
        if (code is not null)
        {
            referenceUrls = [.. referenceUrls, .. new Reader(code.Value, path, errors).StringArray("referenceUrls")];
        }

        return new Finding
        {
            FindingArn = arn!,
            AwsAccountId = account!,
            Region = resources.FirstOrDefault()?.Region ?? RegionFromArn(arn!) ?? "",
            Type = type,
            Severity = severity,
            Status = status,
            Title = title ?? vulnerabilityId!,
            Description = r.OptionalString("description"),
            VulnerabilityId = vulnerabilityId!,
            InspectorScore = inspectorScore,
            Cvss = ParseCvss(r, packageReader),
            Epss = epss,
            ExploitAvailable = string.Equals(r.OptionalString("exploitAvailable"), "YES", StringComparison.OrdinalIgnoreCase),
            ExploitLastSeenAt = exploitability is null ? null : new Reader(exploitability.Value, path, errors).OptionalTime("lastKnownExploitAt"),
            FixAvailable = (r.OptionalString("fixAvailable") ?? "NO").ToUpperInvariant(),
            Packages = packages,
            Resources = resources,
            Remediation = recommendationReader?.OptionalString("text") is { } text && text != "None Provided" ? text : null,
            RemediationUrl = recommendationReader?.OptionalString("Url") ?? recommendationReader?.OptionalString("url"),
            ReferenceUrls = referenceUrls,
            SourceUrl = packageReader?.OptionalString("sourceUrl"),
            Network = networkPath,
            Code = codeLocation,
            FirstObservedAt = firstObservedAt ?? updatedAt!.Value,
            LastObservedAt = lastObservedAt ?? updatedAt!.Value,
            UpdatedAt = updatedAt!.Value,
        };
    }

    private static bool TryParseType(string text, out FindingType type)
    {
        type = text switch
        {
            "PACKAGE_VULNERABILITY" => FindingType.PackageVulnerability,
            "NETWORK_REACHABILITY" => FindingType.NetworkReachability,
            "CODE_VULNERABILITY" => FindingType.CodeVulnerability,
            _ => (FindingType)(-1),
        };
        return (int)type >= 0;
    }

    private static CvssScore? ParseCvss(Reader finding, Reader? package)
    {
        // Inspector's adjusted score is what its inspectorScore reflects; fall back to the first CVSS entry.
        if (finding.Object("inspectorScoreDetails") is { } details
            && new Reader(details, "", []).Object("adjustedCvss") is { } adjusted)
        {
            var a = new Reader(adjusted, "", []);
            if (a.OptionalString("scoringVector") is { } vector)
            {
                return new CvssScore(a.OptionalString("version") ?? "", a.OptionalNumber("score") ?? 0, vector, a.OptionalString("scoreSource") ?? "");
            }
        }
        if (package?.Array("cvss") is { } list)
        {
            foreach (var item in list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object))
            {
                var c = new Reader(item, "", []);
                if (c.OptionalString("scoringVector") is { } vector)
                {
                    return new CvssScore(c.OptionalString("version") ?? "", c.OptionalNumber("baseScore") ?? 0, vector, c.OptionalString("source") ?? "");
                }
            }
        }
        return null;
    }

    private static List<FindingResource> ParseResources(Reader r, List<string> errors)
    {
        var list = new List<FindingResource>();
        var before = errors.Count;
        var array = r.Array("resources");
        if (array is null)
        {
            if (errors.Count == before)
            {
                errors.Add($"{r.Path}.resources is required.");
            }
            return list;
        }
        var i = 0;
        foreach (var item in array.Value.EnumerateArray())
        {
            var path = $"{r.Path}.resources[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{path} must be an object.");
                continue;
            }
            var res = new Reader(item, path, errors);
            var type = res.RequiredString("type");
            var id = res.RequiredString("id");
            if (type is null || id is null)
            {
                continue;
            }
            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            if (res.Object("tags") is { } tagObject)
            {
                foreach (var tag in tagObject.EnumerateObject().Where(t => t.Value.ValueKind == JsonValueKind.String))
                {
                    tags[tag.Name] = tag.Value.GetString()!;
                }
            }
            var details = res.Object("details");
            var d = details is null ? null : new Reader(details.Value, path + ".details", errors);
            var ecr = d?.Object("awsEcrContainerImage");
            var ecrReader = ecr is null ? null : new Reader(ecr.Value, path, errors);
            var lambda = d?.Object("awsLambdaFunction");
            var lambdaReader = lambda is null ? null : new Reader(lambda.Value, path, errors);
            var ec2 = d?.Object("awsEc2Instance");
            list.Add(new FindingResource
            {
                Type = type,
                Id = id,
                Region = res.OptionalString("region") ?? "",
                Partition = res.OptionalString("partition"),
                Tags = tags,
                EcrRepository = ecrReader?.OptionalString("repositoryName")
                    ?? (type == ResourceTypes.EcrRepository ? id.Split('/').LastOrDefault() : null),
                ImageTags = ecrReader?.StringArray("imageTags") ?? [],
                LambdaFunction = lambdaReader?.OptionalString("functionName"),
                ImageDigest = ecrReader?.OptionalString("imageHash"),
                LambdaRuntime = lambdaReader?.OptionalString("runtime"),
                Platform = ecrReader?.OptionalString("platform")
                    ?? lambdaReader?.OptionalString("runtime")
                    ?? (ec2 is null ? null : new Reader(ec2.Value, path, errors).OptionalString("platform")),
            });
        }
        if (list.Count == 0 && errors.Count == before)
        {
            errors.Add($"{r.Path}.resources must name at least one resource.");
        }
        return list;
    }

    private static List<VulnerablePackage> ParsePackages(JsonElement details, string path, List<string> errors)
    {
        var list = new List<VulnerablePackage>();
        if (!details.TryGetProperty("vulnerablePackages", out var array) || array.ValueKind != JsonValueKind.Array)
        {
            return list;
        }
        foreach (var item in array.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object))
        {
            var p = new Reader(item, path, errors);
            list.Add(new VulnerablePackage(
                p.OptionalString("name") ?? "(unnamed)",
                p.OptionalString("version"),
                p.OptionalString("fixedInVersion"),
                p.OptionalString("packageManager"),
                p.OptionalString("filePath"),
                p.OptionalString("remediation")));
        }
        return list;
    }

    private static NetworkPath ParseNetwork(Reader r)
    {
        int? begin = null, end = null;
        if (r.Object("openPortRange") is { } range)
        {
            var pr = new Reader(range, r.Path, []);
            begin = (int?)pr.OptionalNumber("begin");
            end = (int?)pr.OptionalNumber("end");
        }
        var protocol = r.OptionalString("protocol") ?? "TCP";
        var summary = begin is null ? protocol : begin == end ? $"{protocol} {begin}" : $"{protocol} {begin}-{end}";
        var steps = new List<NetworkStep>();
        if (r.Object("networkPath") is { } path && new Reader(path, r.Path, []).Array("steps") is { } array)
        {
            foreach (var item in array.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).Take(30))
            {
                var step = new Reader(item, r.Path, []);
                if (step.OptionalString("componentId") is { Length: > 0 } id)
                {
                    steps.Add(new NetworkStep(id, step.OptionalString("componentType") ?? ""));
                }
            }
        }
        return new NetworkPath(protocol, begin, end, summary) { Steps = steps };
    }

    private static CodeLocation ParseCode(Reader r)
    {
        string? file = null;
        int? start = null, end = null;
        if (r.Object("filePath") is { } fp)
        {
            var f = new Reader(fp, r.Path, []);
            file = f.OptionalString("filePath") ?? f.OptionalString("fileName");
            start = (int?)f.OptionalNumber("startLine");
            end = (int?)f.OptionalNumber("endLine");
        }
        return new CodeLocation(r.OptionalString("detectorName"), file, start, end, r.StringArray("cwes"));
    }

    private static string? RegionFromArn(string arn)
    {
        var parts = arn.Split(':');
        return parts.Length > 3 && parts[3].Length > 0 ? parts[3] : null;
    }

    /// <summary>Typed field access that records "wrong type" errors with the field's path.</summary>
    private sealed class Reader(JsonElement element, string path, List<string> errors)
    {
        public string Path => path;

        public string? RequiredString(string name)
        {
            var value = OptionalString(name);
            if (value is null && !Has(name))
            {
                errors.Add($"{path}.{name} is required.");
            }
            else if (value is { Length: 0 })
            {
                errors.Add($"{path}.{name} must not be empty.");
                return null;
            }
            return value;
        }

        public string? OptionalString(string name)
        {
            if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }
            if (value.ValueKind != JsonValueKind.String)
            {
                errors.Add($"{path}.{name} must be a string, not {Kind(value)}.");
                return null;
            }
            return value.GetString();
        }

        public double? OptionalNumber(string name)
        {
            if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }
            if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && double.IsFinite(d))
            {
                return d;
            }
            if (value.ValueKind == JsonValueKind.String
                && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d) && double.IsFinite(d))
            {
                return d;
            }
            errors.Add($"{path}.{name} must be a number, not {Kind(value)}.");
            return null;
        }

        public DateTimeOffset? RequiredTime(string name)
        {
            if (!Has(name))
            {
                errors.Add($"{path}.{name} is required.");
                return null;
            }
            return OptionalTime(name);
        }

        public DateTimeOffset? OptionalTime(string name)
        {
            var text = OptionalString(name);
            if (text is null)
            {
                return null;
            }
            if (InspectorTimestamps.TryParse(text, out var at))
            {
                return at;
            }
            errors.Add($"{path}.{name} '{Shorten(text)}' is not a timestamp.");
            return null;
        }

        public JsonElement? Object(string name)
        {
            if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }
            if (value.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{path}.{name} must be an object, not {Kind(value)}.");
                return null;
            }
            return value;
        }

        public JsonElement? Array(string name)
        {
            if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }
            if (value.ValueKind != JsonValueKind.Array)
            {
                errors.Add($"{path}.{name} must be an array, not {Kind(value)}.");
                return null;
            }
            return value;
        }

        public IReadOnlyList<string> StringArray(string name) =>
            Array(name) is { } array
                ? array.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray()
                : [];

        private bool Has(string name) => element.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

        private static string Kind(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        };

        private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
    }
}
