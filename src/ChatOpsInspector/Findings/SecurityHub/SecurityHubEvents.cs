using System.Text.Json;

namespace ChatOpsInspector.Findings.SecurityHub;

/// <summary>The envelope fields of an EventBridge event whose source is not <c>aws.inspector2</c>.</summary>
internal sealed record EventEnvelope(string Id, string Source, string DetailType, string Account, string Region, DateTimeOffset? Time);

/// <summary>
/// Events of sources other than Inspector. Security Hub's finding events become findings — ASFF
/// ("Security Hub Findings - Imported", Security Hub CSPM) and OCSF ("Findings Imported V2", Security
/// Hub) — when they are about a vulnerability; every other well-formed AWS event is accepted and
/// counted as ignored, so that an over-broad rule never fills a dead-letter queue.
/// </summary>
internal static class SecurityHubEvents
{
    public const string Source = "aws.securityhub";
    public const string AsffDetailType = "Security Hub Findings - Imported";
    public const string OcsfDetailType = "Findings Imported V2";

    /// <summary>One finding per event today, but <c>detail.findings</c> is an array; a bound keeps a hostile one cheap.</summary>
    public const int MaxFindingsPerEvent = 100;

    public static void Add(EventEnvelope envelope, JsonElement detail, string path, List<InspectorEvent> events, List<string> errors)
    {
        if (envelope.Source != Source)
        {
            events.Add(Ignored(envelope, envelope.Id, IgnoredReasons.OtherSource) with { Kind = EventKinds.OtherSource });
            return;
        }
        var ocsf = envelope.DetailType == OcsfDetailType;
        if (!ocsf && envelope.DetailType != AsffDetailType)
        {
            // Custom actions and insight results repeat what the imported events already said.
            events.Add(Ignored(envelope, envelope.Id, IgnoredReasons.NotAFinding));
            return;
        }
        if (!detail.TryGetProperty("findings", out var findings) || findings.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{path}.detail.findings is required and must be an array for '{envelope.DetailType}'.");
            return;
        }
        var count = findings.GetArrayLength();
        if (count > MaxFindingsPerEvent)
        {
            errors.Add($"{path}.detail.findings holds {count} findings; at most {MaxFindingsPerEvent} are read from one event.");
            return;
        }
        var i = 0;
        foreach (var item in findings.EnumerateArray())
        {
            var itemPath = $"{path}.detail.findings[{i}]";
            // Event ids deduplicate redeliveries; each finding of a multi-finding event needs its own.
            var id = count == 1 ? envelope.Id : $"{envelope.Id}#{i}";
            i++;
            var before = errors.Count;
            var finding = ocsf
                ? OcsfParser.Parse(item, itemPath, envelope, errors)
                : AsffParser.Parse(item, itemPath, envelope, errors);
            if (errors.Count > before)
            {
                continue;
            }
            events.Add(finding is null
                ? Ignored(envelope, id, IgnoredReasons.NotAVulnerability)
                : new InspectorEvent(id, envelope.DetailType, envelope.Account, envelope.Region, envelope.Time, finding));
        }
    }

    private static InspectorEvent Ignored(EventEnvelope e, string id, string reason) =>
        new(id, e.DetailType, e.Account, e.Region, e.Time, null) { IgnoredReason = reason };
}
