using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChatOpsInspector.Workflow;

/// <summary>A timed remediation step in the durable <c>remediation</c> queue.</summary>
internal sealed record RemediationJob(string Kind, string GroupId)
{
    public const string SuppressionExpiry = "suppression-expiry";
    public const string DeleteFilter = "delete-filter";
    public const string ApprovalExpiry = "approval-expiry";
    public const string PatchPoll = "patch-poll";
    public const string RescanCheck = "rescan-check";
    public const string Watchdog = "remediation-watchdog";
    public const string FilterSweep = "filter-sweep";
    public const string RequestCheck = "request-check";
    public const string StartRun = "start-run";

    public string? RequestId { get; init; }
    public string? FilterArn { get; init; }
    public int Attempt { get; init; }

    /// <summary>Filter sweep: the region and the name prefix of one suppression's filters.</summary>
    public string? Region { get; init; }
    public string? FilterName { get; init; }

    /// <summary>Stable id, so scheduling the same step twice keeps one item.</summary>
    public string QueueId => $"{Kind}:{GroupId}:{RequestId ?? FilterArn ?? (FilterName is null ? "" : $"{Region}:{FilterName}")}";

    public string ToJson() => JsonSerializer.Serialize(this, RemediationJobJson.Default.RemediationJob);

    public static RemediationJob? FromJson(string? json) =>
        json is null ? null : JsonSerializer.Deserialize(json, RemediationJobJson.Default.RemediationJob);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RemediationJob))]
internal sealed partial class RemediationJobJson : JsonSerializerContext;
