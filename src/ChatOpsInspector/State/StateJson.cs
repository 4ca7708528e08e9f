using System.Text.Json;
using System.Text.Json.Serialization;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.State;

/// <summary>Source-generated serialisation of everything the stores keep.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(GroupMeta))]
[JsonSerializable(typeof(GroupMember))]
[JsonSerializable(typeof(WorkflowState))]
[JsonSerializable(typeof(ChatMessageRef))]
[JsonSerializable(typeof(AuditRecord))]
internal sealed partial class StateJson : JsonSerializerContext
{
    public static string Write<T>(T value) => JsonSerializer.Serialize(value, typeof(T), Default);

    public static T Read<T>(string json) => (T)JsonSerializer.Deserialize(json, typeof(T), Default)!;
}
