using System.Text.Json.Nodes;

namespace ChatOpsInspector.Tests.Infrastructure;

/// <summary>Realistic Inspector events made from the official EC2 sample, varied per test.</summary>
public static class FindingEvents
{
    private static readonly Lazy<string> Ec2Sample = new(() => Sample("finding-ec2-package-vulnerability.json"));

    /// <summary>
    /// An official sample event with its documentation placeholder <c>{{FINDING_ID}}</c> filled with an id
    /// of the shape Inspector issues (32 hex digits), as a real event carries.
    /// </summary>
    public static string Sample(string file) =>
        Fixtures.Read("inspector", file).Replace("{{FINDING_ID}}", FindingId(file), StringComparison.Ordinal);

    /// <summary>
    /// The finding ARN a test's readable finding name stands for: Inspector's finding ids are 32 hex
    /// digits (Inspector2 API model, shape FindingArn), so the name is hashed into one.
    /// </summary>
    public static string Arn(string findingId, string account = "123456789012", string region = "eu-central-1") =>
        $"arn:aws:inspector2:{region}:{account}:finding/{FindingId(findingId)}";

    public static string FindingId(string name) =>
        name.Length == 32 && name.All(char.IsAsciiHexDigitLower)
            ? name
            : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name))[..16]);

    public static JsonObject Ec2(
        string findingId,
        string cve = "CVE-2024-29069",
        string severity = "CRITICAL",
        string status = "ACTIVE",
        string instanceId = "i-0123456789abcdef0",
        string account = "123456789012",
        DateTimeOffset? updatedAt = null,
        double score = 9.8,
        Dictionary<string, string>? tags = null,
        string? eventId = null)
    {
        var evt = JsonNode.Parse(Ec2Sample.Value)!.AsObject();
        evt["id"] = eventId ?? Guid.NewGuid().ToString();
        evt["account"] = account;
        var detail = evt["detail"]!.AsObject();
        detail["findingArn"] = Arn(findingId, account);
        detail["awsAccountId"] = account;
        detail["severity"] = severity;
        detail["status"] = status;
        detail["inspectorScore"] = score;
        detail["title"] = $"{cve} - snapd";
        detail["packageVulnerabilityDetails"]!["vulnerabilityId"] = cve;
        detail["updatedAt"] = (updatedAt ?? new DateTimeOffset(2024, 9, 4, 17, 0, 36, TimeSpan.Zero)).ToUniversalTime()
            .ToString("ddd MMM dd HH:mm:ss.fff 'UTC' yyyy", System.Globalization.CultureInfo.InvariantCulture);
        var resource = detail["resources"]![0]!.AsObject();
        resource["id"] = instanceId;
        if (tags is not null)
        {
            var tagObject = new JsonObject();
            foreach (var (k, v) in tags)
            {
                tagObject[k] = v;
            }
            resource["tags"] = tagObject;
        }
        return evt;
    }
}
