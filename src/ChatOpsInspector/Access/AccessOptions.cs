namespace ChatOpsInspector.Access;

/// <summary>Section <c>Access</c>: who may read and act on an owner's alerts.</summary>
internal sealed class AccessOptions
{
    public const string Section = "Access";

    /// <summary>
    /// True: everyone of the allowed workspaces and tenants may see and act on every owner's alerts (the
    /// behaviour before access control). False (default): an owner's alerts are for its channels, its
    /// Members/Approvers/Suppressors and the security team of <c>Routing:Default</c>.
    /// </summary>
    public bool Open { get; set; }

    /// <summary>
    /// People known by several ids, one entry per person (<c>"U0123ABCD, 0f1e…, ana@example.com"</c>), so
    /// that the four-eyes rule treats a Slack account and a Teams account of one human as one.
    /// </summary>
    public List<string> People { get; set; } = [];
}
