using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace ChatOpsInspector.Slack;

/// <summary>Tolerant readers for Slack's inbound payloads: wrong shapes read as missing, never as exceptions.</summary>
internal static class SlackPayload
{
    public static string? Str(this JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static Dictionary<string, StringValues> Form(byte[] body)
    {
        using var reader = new FormReader(Encoding.UTF8.GetString(body));
        return reader.ReadForm();
    }

    public static string? Field(this Dictionary<string, StringValues> form, string name) =>
        form.TryGetValue(name, out var value) && value.Count > 0 ? value[0] : null;

    public static JsonObject? ParseObject(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
