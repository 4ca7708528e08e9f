namespace ChatOpsInspector.Ingest;

/// <summary>Section <c>Ingest</c>.</summary>
internal sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>Value of the <c>X-Api-Key</c> header EventBridge's connection sends. Empty: ingest refuses everything.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Also accept <c>Authorization: Bearer {ApiKey}</c> / <c>Basic</c> (EventBridge connection auth types).</summary>
    public string? BasicUser { get; set; }
    public string? BasicPassword { get; set; }

    public long MaxBodyBytes { get; set; } = 1024 * 1024;

    public SqsOptions Sqs { get; set; } = new();
}

internal sealed class SqsOptions
{
    /// <summary>Empty: the poller is off.</summary>
    public string? QueueUrl { get; set; }

    /// <summary>Endpoint override (tests, VPC endpoints); empty uses the regional endpoint.</summary>
    public string? ServiceUrl { get; set; }

    public int WaitTimeSeconds { get; set; } = 20;
    public int MaxMessages { get; set; } = 10;
}
