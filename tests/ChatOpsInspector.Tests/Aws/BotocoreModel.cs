using System.Text.Json;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Aws;

/// <summary>
/// Checks a JSON request against a shape of a botocore service model the way AWS's validation does:
/// member names, required members, list and string lengths, enums, integer ranges. The shapes are
/// the excerpts under Fixtures/aws/botocore (cut from github.com/boto/botocore, commit in each file).
/// </summary>
internal sealed class BotocoreModel(JsonElement root)
{
    private readonly JsonElement _shapes = root.GetProperty("shapes");

    public JsonElement Root => root;

    /// <summary>Inspector2 2020-06-08 (Fixtures/aws/botocore/inspector2-2020-06-08.excerpt.json).</summary>
    public static BotocoreModel Inspector2 { get; } =
        new(JsonDocument.Parse(Fixtures.Read("aws", "botocore", "inspector2-2020-06-08.excerpt.json")).RootElement.Clone());

    public JsonElement Shape(string name) => _shapes.GetProperty(name);

    /// <summary>Every way <paramref name="value"/> breaks shape <paramref name="shapeName"/>; empty when it conforms.</summary>
    public IReadOnlyList<string> Validate(JsonElement value, string shapeName)
    {
        var errors = new List<string>();
        Check(value, shapeName, "$", errors);
        return errors;
    }

    private void Check(JsonElement value, string shapeName, string path, List<string> errors)
    {
        if (!_shapes.TryGetProperty(shapeName, out var shape))
        {
            errors.Add($"{path}: shape {shapeName} is not in the model excerpt");
            return;
        }
        var type = shape.GetProperty("type").GetString();
        switch (type)
        {
            case "structure":
                if (value.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"{path}: {shapeName} must be an object");
                    return;
                }
                var members = shape.GetProperty("members");
                foreach (var property in value.EnumerateObject())
                {
                    if (!members.TryGetProperty(property.Name, out var member))
                    {
                        errors.Add($"{path}.{property.Name}: not a member of {shapeName}");
                        continue;
                    }
                    Check(property.Value, member.GetProperty("shape").GetString()!, $"{path}.{property.Name}", errors);
                }
                if (shape.TryGetProperty("required", out var required))
                {
                    foreach (var name in required.EnumerateArray().Select(r => r.GetString()!).Where(r => !value.TryGetProperty(r, out _)))
                    {
                        errors.Add($"{path}.{name}: required by {shapeName}");
                    }
                }
                break;
            case "list":
                if (value.ValueKind != JsonValueKind.Array)
                {
                    errors.Add($"{path}: {shapeName} must be a list");
                    return;
                }
                CheckLength(value.GetArrayLength(), shape, shapeName, path, errors);
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    Check(item, shape.GetProperty("member").GetProperty("shape").GetString()!, $"{path}[{i++}]", errors);
                }
                break;
            case "map":
                if (value.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"{path}: {shapeName} must be a map");
                    return;
                }
                foreach (var entry in value.EnumerateObject())
                {
                    using var key = JsonDocument.Parse(JsonSerializer.Serialize(entry.Name));
                    Check(key.RootElement, shape.GetProperty("key").GetProperty("shape").GetString()!, $"{path}<key {entry.Name}>", errors);
                    Check(entry.Value, shape.GetProperty("value").GetProperty("shape").GetString()!, $"{path}.{entry.Name}", errors);
                }
                break;
            case "string":
                if (value.ValueKind != JsonValueKind.String)
                {
                    errors.Add($"{path}: {shapeName} must be a string");
                    return;
                }
                var text = value.GetString()!;
                CheckLength(text.Length, shape, shapeName, path, errors);
                if (shape.TryGetProperty("enum", out var allowed) && !allowed.EnumerateArray().Any(a => a.GetString() == text))
                {
                    errors.Add($"{path}: '{text}' is not one of {shapeName} ({string.Join(", ", allowed.EnumerateArray())})");
                }
                break;
            case "integer" or "long":
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
                {
                    errors.Add($"{path}: {shapeName} must be an integer");
                    return;
                }
                if (shape.TryGetProperty("min", out var min) && number < min.GetInt64() || shape.TryGetProperty("max", out var max) && number > max.GetInt64())
                {
                    errors.Add($"{path}: {number} is outside {shapeName}'s range");
                }
                break;
            case "double" or "float":
                if (value.ValueKind != JsonValueKind.Number)
                {
                    errors.Add($"{path}: {shapeName} must be a number");
                }
                break;
            case "timestamp":
                if (value.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
                {
                    errors.Add($"{path}: {shapeName} must be a timestamp");
                }
                break;
            case "boolean":
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    errors.Add($"{path}: {shapeName} must be true or false");
                }
                break;
            default:
                errors.Add($"{path}: shape type {type} of {shapeName} is not understood by this check");
                break;
        }
    }

    private static void CheckLength(int length, JsonElement shape, string shapeName, string path, List<string> errors)
    {
        if (shape.TryGetProperty("min", out var min) && length < min.GetInt32())
        {
            errors.Add($"{path}: {shapeName} needs at least {min.GetInt32()} (has {length})");
        }
        if (shape.TryGetProperty("max", out var max) && length > max.GetInt32())
        {
            errors.Add($"{path}: {shapeName} takes at most {max.GetInt32()} (has {length})");
        }
    }
}
