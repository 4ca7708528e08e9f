using System.Globalization;
using System.Text.Json;

namespace ChatOpsInspector.Findings.SecurityHub;

/// <summary>
/// Typed reads of a Security Hub finding: wrong types and missing required fields become errors
/// naming the JSON path; optional fields of the wrong type are errors too, never silently dropped.
/// </summary>
internal readonly struct JsonFields(JsonElement element, string path, List<string> errors)
{
    public string Path => path;

    public JsonFields? Object(string name)
    {
        var value = Get(name);
        if (value is null)
        {
            return null;
        }
        if (value.Value.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}.{name} must be an object.");
            return null;
        }
        return new JsonFields(value.Value, $"{path}.{name}", errors);
    }

    public IEnumerable<JsonFields> Objects(string name)
    {
        var value = Get(name);
        if (value is null)
        {
            return [];
        }
        if (value.Value.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{path}.{name} must be an array.");
            return [];
        }
        var list = new List<JsonFields>();
        var i = 0;
        foreach (var item in value.Value.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object)
            {
                list.Add(new JsonFields(item, $"{path}.{name}[{i}]", errors));
            }
            i++;
        }
        return list;
    }

    public string? String(string name, bool required = false)
    {
        var value = Get(name);
        if (value is null)
        {
            if (required)
            {
                errors.Add($"{path}.{name} is required.");
            }
            return null;
        }
        if (value.Value.ValueKind != JsonValueKind.String)
        {
            errors.Add($"{path}.{name} must be a string.");
            return null;
        }
        var text = value.Value.GetString();
        if (required && string.IsNullOrWhiteSpace(text))
        {
            errors.Add($"{path}.{name} must not be empty.");
            return null;
        }
        return text;
    }

    /// <summary>A number, also when written as a string (ASFF <c>ProductFields</c> are all strings).</summary>
    public double? Number(string name)
    {
        var value = Get(name);
        if (value is null)
        {
            return null;
        }
        var v = value.Value;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d))
        {
            return d;
        }
        if (v.ValueKind == JsonValueKind.String
            && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d) && double.IsFinite(d))
        {
            return d;
        }
        errors.Add($"{path}.{name} must be a number.");
        return null;
    }

    public bool? Bool(string name)
    {
        var value = Get(name);
        if (value is null)
        {
            return null;
        }
        if (value.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.Value.GetBoolean();
        }
        errors.Add($"{path}.{name} must be true or false.");
        return null;
    }

    /// <summary>An ISO-8601 string, or (OCSF <c>*_time</c>) milliseconds since the epoch.</summary>
    public DateTimeOffset? Time(string name)
    {
        var value = Get(name);
        if (value is null)
        {
            return null;
        }
        var v = value.Value;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var ms) && ms is > 0 and < 253402300800000)
        {
            return DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
        if (v.ValueKind == JsonValueKind.String && InspectorTimestamps.TryParse(v.GetString(), out var at))
        {
            return at;
        }
        errors.Add($"{path}.{name} is not a timestamp.");
        return null;
    }

    public IReadOnlyList<string> Strings(string name)
    {
        var value = Get(name);
        if (value is null || value.Value.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        return value.Value.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray();
    }

    /// <summary>A flat object of string values, e.g. ASFF <c>Tags</c> and <c>ProductFields</c>.</summary>
    public Dictionary<string, string> StringMap(string name)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Get(name) is { ValueKind: JsonValueKind.Object } value)
        {
            foreach (var p in value.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String))
            {
                map[p.Name] = p.Value.GetString()!;
            }
        }
        return map;
    }

    private JsonElement? Get(string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}

/// <summary>What the two Security Hub formats have in common once read.</summary>
internal static class SecurityHubFindings
{
    /// <summary>
    /// The key a finding is stored under. Inspector's findings keep their Inspector ARN, so that the
    /// Security Hub copy and Inspector's own event are one finding; other products' ids are scoped by
    /// their product ARN, as Security Hub itself does (<c>aws/securityhub/FindingId</c>).
    /// </summary>
    public static string? Key(string productArn, string findingId, string path, List<string> errors)
    {
        var key = IsInspectorArn(findingId) ? findingId : $"{productArn}/{findingId}";
        if (!key.StartsWith("arn:", StringComparison.Ordinal) || key.Length > 2048
            || key.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            // The key names store keys and appears in logs and cards.
            errors.Add($"{path}: the finding id and product ARN must form an ARN without spaces or control characters.");
            return null;
        }
        return key;
    }

    public static bool IsInspectorArn(string id) =>
        id.StartsWith("arn:", StringComparison.Ordinal) && id.Split(':') is [_, _, "inspector2", ..];

    /// <summary>Security Hub's resource types (ASFF <c>AwsEc2Instance</c>, OCSF <c>AWS::EC2::Instance</c>) as Inspector names them.</summary>
    public static string ResourceType(string type) =>
        type.Replace("::", "", StringComparison.Ordinal).ToUpperInvariant() switch
        {
            "AWSEC2INSTANCE" => ResourceTypes.Ec2Instance,
            "AWSECRCONTAINERIMAGE" => ResourceTypes.EcrContainerImage,
            "AWSECRREPOSITORY" => ResourceTypes.EcrRepository,
            "AWSLAMBDAFUNCTION" => ResourceTypes.LambdaFunction,
            _ => type,
        };

    /// <summary>
    /// Inspector names an instance by its id; Security Hub by its ARN. SSM runbooks and cards need
    /// the id, and the same resource must look the same whichever way the finding came.
    /// </summary>
    public static string ResourceId(string type, string id)
    {
        if (type == ResourceTypes.Ec2Instance && id.StartsWith("arn:", StringComparison.Ordinal))
        {
            var last = id[(Math.Max(id.LastIndexOf('/'), id.LastIndexOf(':')) + 1)..];
            return last.Length > 0 ? last : id;
        }
        return id;
    }

    public static string? RegionFromArn(string arn) =>
        arn.Split(':') is [_, _, _, { Length: > 0 } region, ..] ? region : null;
}
