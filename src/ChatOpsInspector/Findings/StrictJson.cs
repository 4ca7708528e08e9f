using System.Text.Json;

namespace ChatOpsInspector.Findings;

/// <summary>
/// Parses a request body refusing duplicate keys: a second "severity" or "status" would otherwise
/// silently win, so what a reviewer reads in the body is not what the bot acts on.
/// </summary>
internal static class StrictJson
{
    private static readonly JsonDocumentOptions Strict = new() { MaxDepth = 64, AllowDuplicateProperties = false };
    private static readonly JsonDocumentOptions Lenient = new() { MaxDepth = 64 };

    public static JsonDocument? Parse(ReadOnlyMemory<byte> body, out string? problem)
    {
        try
        {
            problem = null;
            return JsonDocument.Parse(body, Strict);
        }
        catch (JsonException ex)
        {
            problem = DuplicateKeyPath(body) is { } path
                ? $"{(path.Length <= 200 ? path : path[..200] + "…")} appears more than once; duplicate JSON keys are refused."
                : $"The body is not valid JSON: {ex.Message}";
            return null;
        }
    }

    public static JsonDocument? Parse(string body, out string? problem) =>
        Parse(System.Text.Encoding.UTF8.GetBytes(body), out problem);

    /// <summary>The path of the first repeated key, found again on the lenient parse to name it.</summary>
    private static string? DuplicateKeyPath(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body, Lenient);
            return Find(document.RootElement, "$");
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Find(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    var child = $"{path}.{property.Name}";
                    if (!seen.Add(property.Name))
                    {
                        return child;
                    }
                    if (Find(property.Value, child) is { } found)
                    {
                        return found;
                    }
                }
                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Find(item, $"{path}[{i++}]") is { } found)
                    {
                        return found;
                    }
                }
                return null;
            default:
                return null;
        }
    }
}
