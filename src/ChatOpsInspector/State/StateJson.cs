using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
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
[JsonSerializable(typeof(GroupSummary))]
internal sealed partial class StateJson : JsonSerializerContext
{
    /// <summary>UTF-8 as the store keeps it: no string to allocate and transcode on the write path.</summary>
    public static byte[] Write<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Info<T>.Value);

    /// <summary>Straight from the store's bytes: no string to allocate and transcode on the read path.</summary>
    public static T Read<T>(ReadOnlySpan<byte> utf8) => JsonSerializer.Deserialize(utf8, Info<T>.Value)!;

    // Looking the type up by Type on every call showed up as a tenth of a busy bot's CPU.
    private static class Info<T>
    {
        public static readonly JsonTypeInfo<T> Value = (JsonTypeInfo<T>)Default.GetTypeInfo(typeof(T))!;
    }
}
