using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>One finding to send: who owns it, which vulnerability, which resource.</summary>
internal readonly record struct FindingSpec(
    string FindingId,
    string Cve,
    string InstanceId,
    string App,
    string Account = "123456789012",
    string Severity = "CRITICAL",
    string Status = "ACTIVE",
    DateTimeOffset? UpdatedAt = null,
    DateTimeOffset? FirstObservedAt = null,
    int Padding = 0,
    string? EventId = null,
    string? Title = null);

/// <summary>
/// Realistic EventBridge events built from Amazon's EC2 sample (fixtures/inspector), with ids,
/// resources, owners (the <c>app</c> tag) and sizes varied. The sample is turned into a template once;
/// each event is then a few string substitutions, so the generator spends its CPU on sending.
/// </summary>
internal static class Events
{
    public const string AccountA = "123456789012";
    private static readonly Lazy<string> Template = new(BuildTemplate);

    /// <summary>Owners the bench routes by tag; each has its own Slack channel.</summary>
    public static readonly string[] Apps = Enumerable.Range(0, 20).Select(i => $"app{i:00}").ToArray();

    public static string ChannelOf(string app) => "C" + app.ToUpperInvariant();

    private static string BuildTemplate()
    {
        var path = Path.Combine(Paths.Fixtures, "inspector", "finding-ec2-package-vulnerability.json");
        var evt = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        evt["id"] = "@@EVENT@@";
        evt["account"] = "@@ACCOUNT@@";
        evt["resources"] = new JsonArray("@@INSTANCE@@");
        var detail = evt["detail"]!.AsObject();
        detail["awsAccountId"] = "@@ACCOUNT@@";
        detail["findingArn"] = "arn:aws:inspector2:eu-central-1:@@ACCOUNT@@:finding/@@FINDING@@";
        detail["severity"] = "@@SEVERITY@@";
        detail["status"] = "@@STATUS@@";
        detail["inspectorScore"] = 9.8;
        detail["exploitAvailable"] = "YES";
        detail["epss"] = new JsonObject { ["score"] = 0.87 };
        detail["title"] = "@@TITLE@@";
        detail["firstObservedAt"] = "@@FIRST@@";
        detail["updatedAt"] = "@@UPDATED@@";
        var vuln = detail["packageVulnerabilityDetails"]!.AsObject();
        vuln["vulnerabilityId"] = "@@CVE@@";
        vuln["referenceUrls"] = new JsonArray("https://www.cve.org/CVERecord?id=@@CVE@@", "https://ubuntu.com/security/notices/USN-6940-1", "@@PAD@@");
        var resource = detail["resources"]![0]!.AsObject();
        resource["id"] = "@@INSTANCE@@";
        resource["providerAccountId"] = "@@ACCOUNT@@";
        resource["tags"] = new JsonObject { ["app"] = "@@APP@@", ["env"] = "prod", ["Name"] = "@@INSTANCE@@-web" };
        return evt.ToJsonString();
    }

    public static string Json(in FindingSpec spec)
    {
        var updated = spec.UpdatedAt ?? new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
        var first = spec.FirstObservedAt ?? updated.AddMinutes(-5);
        var sb = new StringBuilder(Template.Value, 9000);
        sb.Replace("@@EVENT@@", spec.EventId ?? Guid.NewGuid().ToString())
            .Replace("@@ACCOUNT@@", spec.Account)
            .Replace("@@FINDING@@", FindingHex(spec.FindingId))
            .Replace("@@SEVERITY@@", spec.Severity)
            .Replace("@@STATUS@@", spec.Status)
            .Replace("@@TITLE@@", spec.Title ?? spec.Cve + " - snapd")
            .Replace("@@CVE@@", spec.Cve)
            .Replace("@@INSTANCE@@", spec.InstanceId)
            .Replace("@@APP@@", spec.App)
            .Replace("@@FIRST@@", Stamp(first))
            .Replace("@@UPDATED@@", Stamp(updated))
            // Real findings differ in size (more packages, references): pad to spread over 4–8 KB.
            .Replace("@@PAD@@", "https://example.com/advisories/" + new string('x', spec.Padding));
        return sb.ToString();
    }

    public static byte[] Bytes(in FindingSpec spec) => Encoding.UTF8.GetBytes(Json(spec));

    public static string Arn(string findingId, string account = AccountA) => $"arn:aws:inspector2:eu-central-1:{account}:finding/{FindingHex(findingId)}";

    /// <summary>Inspector's finding ids are 32 hex digits (its API model's FindingArn pattern); a run's readable id is hashed into one.</summary>
    public static string FindingHex(string findingId) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(findingId))[..16]);

    /// <summary>Inspector's EventBridge timestamp format.</summary>
    public static string Stamp(DateTimeOffset at) =>
        at.ToUniversalTime().ToString("ddd MMM dd HH:mm:ss.fff 'UTC' yyyy", CultureInfo.InvariantCulture);

    /// <summary>Distinct critical finding number <paramref name="i"/> of a run: owners, CVEs and sizes spread out.</summary>
    public static FindingSpec Distinct(string run, int i, int cves = 500) => new(
        FindingId: $"{run}-{i:x8}",
        Cve: $"CVE-2026-{10000 + (i % cves)}",
        InstanceId: $"i-{i:x17}",
        App: Apps[(i / cves) % Apps.Length],
        Padding: 600 + (i * 7919) % 3900);

    /// <summary>Routing settings: one rule per app tag, each to its own owner and Slack channel.</summary>
    public static Dictionary<string, string> RoutingSettings()
    {
        var s = new Dictionary<string, string>
        {
            ["Routing:Default:Owner"] = "unrouted",
            ["Routing:Default:SlackChannel"] = "CUNROUTED",
        };
        for (var i = 0; i < Apps.Length; i++)
        {
            s[$"Routing:Rules:{i}:Tags:app"] = Apps[i];
            s[$"Routing:Rules:{i}:Target:Owner"] = Apps[i];
            s[$"Routing:Rules:{i}:Target:SlackChannel"] = ChannelOf(Apps[i]);
            s[$"Routing:Rules:{i}:Target:Approvers:0"] = "UAPPROVER";
            s[$"Routing:Rules:{i}:Target:Suppressors:0"] = "USUPPRESSOR";
        }
        return s;
    }
}
