using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ChatOpsInspector.Tests.Infrastructure;

/// <summary>
/// Security Hub events made from the public samples in <c>Fixtures/securityhub</c>: the user guide's
/// envelopes with a finding where their placeholder stands.
/// </summary>
public static partial class SecurityHubSamples
{
    public const string InspectorArn = "arn:aws:inspector2:us-east-1:111111111111:finding/421f47a297307b649173d4ac3e44bc0c";

    /// <summary>One finding of a DefectDojo <c>get-findings</c> file (ASFF).</summary>
    public static JsonObject AsffFinding(string file, int index) =>
        JsonNode.Parse(Fixtures.Read("securityhub", file))!["Findings"]![index]!.DeepClone().AsObject();

    /// <summary>The Inspector EC2 finding that <see cref="OcsfInspectorFinding"/> also describes.</summary>
    public static JsonObject AsffInspectorFinding() => AsffFinding("defectdojo-inspector_ec2_cve.json", 1);

    public static JsonObject OcsfInspectorFinding() =>
        JsonNode.Parse(Fixtures.Read("securityhub", "constructed-ocsf-inspector-ec2-cve.json"))!.AsObject();

    /// <summary>The user guide's ASFF <c>Vulnerabilities</c> example, as a JSON array.</summary>
    public static JsonArray UserGuideVulnerabilities() =>
        JsonNode.Parse("{" + Fixtures.Read("securityhub", "securityhub-userguide-asff-vulnerabilities-example.txt") + "}")!["Vulnerabilities"]!.DeepClone().AsArray();

    public static JsonObject AsffEvent(JsonObject finding, string? eventId = null) =>
        Envelope("securityhub-userguide-findings-imported-envelope.txt", finding, eventId);

    public static JsonObject OcsfEvent(JsonObject finding, string? eventId = null) =>
        Envelope("securityhub-userguide-findings-imported-v2-envelope.txt", finding, eventId);

    private static JsonObject Envelope(string file, JsonObject finding, string? eventId)
    {
        var text = Placeholder().Replace(Fixtures.Read("securityhub", file), finding.ToJsonString(), 1);
        var evt = JsonNode.Parse(text)!.AsObject();
        evt["id"] = eventId ?? Guid.NewGuid().ToString();
        return evt;
    }

    [GeneratedRegex(@"\{\s*(\{\{)?<finding content>(\}\})?\s*\}")]
    private static partial Regex Placeholder();
}
