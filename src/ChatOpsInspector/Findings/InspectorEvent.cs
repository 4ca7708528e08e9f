using System.Text.Json;

namespace ChatOpsInspector.Findings;

/// <summary>
/// An EventBridge event, or one finding of a Security Hub event; <see cref="Finding"/> is set when it
/// carries a finding the bot keeps ("Inspector2 Finding", a Security Hub vulnerability finding).
/// </summary>
internal sealed record InspectorEvent(string Id, string DetailType, string Account, string Region, DateTimeOffset? Time, Finding? Finding)
{
    public const string FindingDetailType = "Inspector2 Finding";
    public const string Source = "aws.inspector2";

    /// <summary>The <c>detail_type</c> metric label: one of a closed set (<see cref="EventKinds"/>).</summary>
    public string Kind { get; init; } = EventKinds.Label(DetailType);

    /// <summary>Why nothing is stored when <see cref="Finding"/> is null (<see cref="IgnoredReasons"/>).</summary>
    public string IgnoredReason { get; init; } = IgnoredReasons.NotAFinding;
}

/// <summary>Parses a request body holding one EventBridge event or a JSON array of them.</summary>
internal static class InspectorEventParser
{
    public const int MaxEventsPerRequest = 1000;

    /// <summary>
    /// All events, or none and the reasons: a batch is taken whole or not at all. <paramref name="now"/>
    /// bounds the timestamps a finding may carry (see <see cref="FindingRules"/>).
    /// </summary>
    public static (IReadOnlyList<InspectorEvent> Events, IReadOnlyList<string> Errors) Parse(ReadOnlyMemory<byte> body, DateTimeOffset now)
    {
        var errors = new List<string>();
        if (StrictJson.Parse(body, out var problem) is not { } document)
        {
            return ([], [problem!]);
        }
        using (document)
        {
            var root = document.RootElement;
            var events = new List<InspectorEvent>();
            switch (root.ValueKind)
            {
                case JsonValueKind.Object:
                    AddEvent(root, "$", now, events, errors);
                    break;
                case JsonValueKind.Array:
                    var count = root.GetArrayLength();
                    if (count == 0)
                    {
                        errors.Add("The array holds no events.");
                    }
                    else if (count > MaxEventsPerRequest)
                    {
                        errors.Add($"The array holds {count} events; send at most {MaxEventsPerRequest} per request.");
                    }
                    else
                    {
                        var i = 0;
                        foreach (var item in root.EnumerateArray())
                        {
                            AddEvent(item, $"$[{i++}]", now, events, errors);
                        }
                    }
                    break;
                default:
                    errors.Add("The body must be an EventBridge event object or an array of them.");
                    break;
            }
            return errors.Count > 0 ? ([], errors) : (events, []);
        }
    }

    /// <summary>Parses one event object (also used for SQS message bodies).</summary>
    public static InspectorEvent? ParseEvent(JsonElement element, string path, DateTimeOffset now, List<string> errors)
    {
        var events = new List<InspectorEvent>();
        AddEvent(element, path, now, events, errors);
        return events.FirstOrDefault();
    }

    private static void AddEvent(JsonElement element, string path, DateTimeOffset now, List<InspectorEvent> events, List<string> errors)
    {
        try
        {
            AddEventUnchecked(element, path, now, events, errors);
        }
        catch (InvalidOperationException)
        {
            // GetString throws on text JSON can encode but .NET strings cannot hold, e.g. a lone surrogate
            // escape ("\ud800"): the sender's mistake, so a 400, not a 500.
            errors.Add($"{path} contains text that is not valid Unicode (a lone surrogate escape).");
        }
    }

    private static void AddEventUnchecked(JsonElement element, string path, DateTimeOffset now, List<InspectorEvent> events, List<string> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path} must be an EventBridge event object.");
            return;
        }
        var before = errors.Count;
        var id = String(element, "id", path, errors, required: true);
        var source = String(element, "source", path, errors, required: true);
        var detailType = String(element, "detail-type", path, errors, required: true);
        var account = String(element, "account", path, errors, required: false) ?? "";
        var region = String(element, "region", path, errors, required: false) ?? "";
        var timeText = String(element, "time", path, errors, required: false);
        DateTimeOffset? time = null;
        if (timeText is not null)
        {
            if (InspectorTimestamps.TryParse(timeText, out var t))
            {
                time = t;
            }
            else
            {
                errors.Add($"{path}.time '{timeText}' is not a timestamp.");
            }
        }
        if (account.Length > 0 && !FindingRules.IsAccountId(account))
        {
            errors.Add($"{path}.account is not a 12-digit AWS account id.");
        }
        if (!element.TryGetProperty("detail", out var detail) || detail.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}.detail is required and must be an object.");
        }
        var foreign = source is not null && source != InspectorEvent.Source;
        if (foreign && errors.Count == before && (account.Length == 0 || region.Length == 0))
        {
            // Only a complete AWS event earns the 202 that keeps it out of a dead-letter queue.
            errors.Add($"{path}.source is '{source}', and an event from another source must still be a complete EventBridge event: account and region are required.");
        }
        if (errors.Count > before)
        {
            return;
        }
        if (foreign)
        {
            SecurityHub.SecurityHubEvents.Add(new(id!, source!, detailType!, account, region, time), detail, path, events, errors);
            return;
        }
        Finding? finding = null;
        if (detailType == InspectorEvent.FindingDetailType)
        {
            finding = FindingParser.Parse(detail, $"{path}.detail", errors);
            if (finding is null)
            {
                return;
            }
            var beforeRules = errors.Count;
            FindingRules.Check(finding, detail, $"{path}.detail", now, errors);
            if (errors.Count > beforeRules)
            {
                return;
            }
        }
        events.Add(new InspectorEvent(id!, detailType!, account, region, time, finding));
    }

    private static string? String(JsonElement element, string name, string path, List<string> errors, bool required)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors.Add($"{path}.{name} is required.");
            }
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add($"{path}.{name} must be a string.");
            return null;
        }
        var text = value.GetString();
        if (required && string.IsNullOrEmpty(text))
        {
            errors.Add($"{path}.{name} must not be empty.");
            return null;
        }
        return text;
    }
}
