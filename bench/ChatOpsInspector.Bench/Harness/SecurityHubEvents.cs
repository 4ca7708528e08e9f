using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>
/// Security Hub's copies of Inspector findings, built from the public samples in the test fixtures: the
/// ASFF finding (Security Hub CSPM, "Security Hub Findings - Imported") and the OCSF finding (Security
/// Hub, "Findings Imported V2") in the user guide's envelopes, turned into templates once and varied per
/// event like <see cref="Events"/>: finding id, CVE, instance and owner tag.
/// </summary>
internal static partial class SecurityHubEvents
{
    private const string SampleArnId = "421f47a297307b649173d4ac3e44bc0c";
    private const string SampleInstance = "i-11111111111111111";
    private const string SampleCve = "CVE-2022-3643";
    private const string SampleAccount = "111111111111";
    private const string SampleRegion = "us-east-1";

    private static readonly Lazy<string> AsffTemplate = new(() =>
    {
        var finding = JsonNode.Parse(Read("defectdojo-inspector_ec2_cve.json"))!["Findings"]![1]!.AsObject();
        finding["Resources"]![0]!["Tags"] = new JsonObject { ["app"] = "@@APP@@" };
        return Template("securityhub-userguide-findings-imported-envelope.txt", finding.ToJsonString());
    });

    private static readonly Lazy<string> OcsfTemplate = new(() =>
    {
        var finding = Read("constructed-ocsf-inspector-ec2-cve.json");
        finding = TeamTag().Replace(finding, "\"name\": \"app\", \"value\": \"@@APP@@\"");
        return Template("securityhub-userguide-findings-imported-v2-envelope.txt", finding);
    });

    public static byte[] Asff(in FindingSpec spec) => Fill(AsffTemplate.Value, spec);

    public static byte[] Ocsf(in FindingSpec spec) => Fill(OcsfTemplate.Value, spec);

    private static byte[] Fill(string template, in FindingSpec spec) => Encoding.UTF8.GetBytes(new StringBuilder(template, 12_000)
        .Replace("@@EVENT@@", spec.EventId ?? Guid.NewGuid().ToString())
        .Replace(SampleArnId, Events.FindingHex(spec.FindingId))
        .Replace(SampleInstance, spec.InstanceId)
        .Replace(SampleCve, spec.Cve)
        // The bench's account and region, so a copy of a native finding names the same ARN as Inspector's event.
        .Replace(SampleAccount, spec.Account)
        .Replace(SampleRegion, "eu-central-1")
        .Replace("@@APP@@", spec.App)
        .ToString());

    private static string Template(string envelope, string finding)
    {
        var text = Placeholder().Replace(Read(envelope), _ => finding, 1);
        var evt = JsonNode.Parse(text)!.AsObject();
        evt["id"] = "@@EVENT@@";
        var json = evt.ToJsonString();
        foreach (var marker in new[] { SampleArnId, SampleInstance, SampleCve, SampleAccount, SampleRegion, "@@APP@@" })
        {
            if (!json.Contains(marker, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The Security Hub sample {envelope} no longer carries {marker}.");
            }
        }
        return json;
    }

    private static string Read(string file) => File.ReadAllText(Path.Combine(Paths.Fixtures, "securityhub", file));

    [GeneratedRegex(@"\{\s*(\{\{)?<finding content>(\}\})?\s*\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex("\"name\"\\s*:\\s*\"team\"\\s*,\\s*\"value\"\\s*:\\s*\"payments\"")]
    private static partial Regex TeamTag();
}
