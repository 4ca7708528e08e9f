namespace ChatOpsInspector.State;

/// <summary>Section <c>State</c>.</summary>
internal sealed class StateOptions
{
    public const string Section = "State";

    /// <summary>StackExchange.Redis configuration string; empty selects the in-memory store (local mode).</summary>
    public string? Redis { get; set; }

    public string KeyPrefix { get; set; } = "coi:";

    /// <summary>How long a resolved group's data is kept after resolution.</summary>
    public int ClosedGroupTtlDays { get; set; } = 90;

    /// <summary>How long event ids are remembered for de-duplication (EventBridge redelivers within hours).</summary>
    public int EventDedupHours { get; set; } = 48;

    /// <summary>Days a finding's last <c>updatedAt</c> is remembered, so a late redelivery is still a duplicate.</summary>
    public int FindingTtlDays { get; set; } = 400;

    public bool UseRedis => !string.IsNullOrWhiteSpace(Redis);
}
