using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Workflow;

/// <summary>Section <c>Audit:Archive</c>: where and how often audit records are archived to Amazon S3.</summary>
internal sealed class AuditArchiveOptions
{
    public const string Section = "Audit:Archive";

    /// <summary>S3 bucket. Empty: no archive, and nothing is ever trimmed from Redis.</summary>
    public string? Bucket { get; set; }

    /// <summary>Key prefix; objects are <c>{Prefix}yyyy/MM/dd/{chain}/{first-id}_{last-id}.jsonl</c>.</summary>
    public string Prefix { get; set; } = "audit/";

    /// <summary>The bucket's region; empty: <c>Aws:Region</c>, else the SDK's region resolution.</summary>
    public string? Region { get; set; }

    /// <summary>Another S3 endpoint (a VPC endpoint, a proxy); requests then use path-style addressing.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary><c>GOVERNANCE</c> or <c>COMPLIANCE</c> for buckets with Object Lock; empty: no retention headers.</summary>
    public string? ObjectLockMode { get; set; }

    /// <summary>How long each object is locked, from when it is written.</summary>
    public int RetentionDays { get; set; } = 400;

    public int IntervalMinutes { get; set; } = 60;

    /// <summary>Records per object at most; a longer backlog is written as several objects per pass.</summary>
    public int MaxRecordsPerObject { get; set; } = 10_000;

    public bool Enabled => !string.IsNullOrWhiteSpace(Bucket);

    public string? LockMode => string.IsNullOrWhiteSpace(ObjectLockMode) ? null : ObjectLockMode.Trim().ToUpperInvariant();
}

internal sealed class AuditArchiveOptionsValidator : IValidateOptions<AuditArchiveOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditArchiveOptions options)
    {
        var failures = new List<string>();
        if (options.LockMode is { } mode && mode is not ("GOVERNANCE" or "COMPLIANCE"))
        {
            failures.Add($"Audit:Archive:ObjectLockMode '{options.ObjectLockMode}' must be GOVERNANCE or COMPLIANCE (or empty).");
        }
        if (options.LockMode is not null && options.RetentionDays is < 1 or > 36500)
        {
            failures.Add("Audit:Archive:RetentionDays must be between 1 and 36500 when ObjectLockMode is set.");
        }
        if (options.IntervalMinutes is < 1 or > 1440)
        {
            failures.Add("Audit:Archive:IntervalMinutes must be between 1 and 1440.");
        }
        if (options.MaxRecordsPerObject is < 1 or > 1_000_000)
        {
            failures.Add("Audit:Archive:MaxRecordsPerObject must be between 1 and 1000000.");
        }
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl) && !Uri.TryCreate(options.ServiceUrl, UriKind.Absolute, out _))
        {
            failures.Add($"Audit:Archive:ServiceUrl '{options.ServiceUrl}' is not an absolute URL.");
        }
        if (options.Enabled && (options.Bucket!.Length is < 3 or > 63 || options.Bucket.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.'))))
        {
            failures.Add($"Audit:Archive:Bucket '{options.Bucket}' is not an S3 bucket name (3-63 lower-case letters, digits, '-' or '.').");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
