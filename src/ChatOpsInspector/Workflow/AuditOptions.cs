namespace ChatOpsInspector.Workflow;

/// <summary>Section <c>Audit</c>.</summary>
internal sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>
    /// Key for <c>GET /api/audit</c> (<c>X-Api-Key</c> or <c>Authorization: Bearer</c>). Its own credential:
    /// whoever holds the EventBridge ingest key may post findings, not read who did what. Empty: the
    /// export is off (404).
    /// </summary>
    public string? ApiKey { get; set; }
}
