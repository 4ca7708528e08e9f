using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Aws;

/// <summary>Section <c>Remediation</c>: which SSM runbooks the bot may start, and how carefully.</summary>
internal sealed class RemediationOptions
{
    public const string SectionName = "Remediation";

    public const string RebootIfNeeded = "RebootIfNeeded";
    public const string NoReboot = "NoReboot";

    /// <summary>Command document run by "patch"; it must accept <c>Operation</c> and <c>RebootOption</c>.</summary>
    public string PatchDocument { get; set; } = "AWS-RunPatchBaseline";

    public string RebootOption { get; set; } = RebootIfNeeded;

    /// <summary>
    /// Automation document run by "isolate", one execution per instance. Empty with
    /// <c>Remediation:Isolation:Enabled</c> true: AWS's own <see cref="IsolationOptions.AwsContainmentRunbook"/>.
    /// Empty and not enabled: isolation is off and no card offers it.
    /// </summary>
    public string IsolationDocument { get; set; } = "";

    /// <summary>Section <c>Remediation:Isolation</c>: the containment runbook's role, parameters and release.</summary>
    public IsolationOptions Isolation { get; set; } = new();

    public int ApprovalTtlMinutes { get; set; } = 60;

    /// <summary>
    /// A running patch or isolation that shows no progress for this long is marked failed and the
    /// card offers its actions again. Longer than the patch document's own per-instance timeout.
    /// </summary>
    public int StallTimeoutMinutes { get; set; } = 180;

    /// <summary>SSM rate control: how many targets patch at once (a number or a percentage).</summary>
    public string MaxConcurrency { get; set; } = "10%";

    /// <summary>SSM rate control: how many failures stop the command (a number or a percentage).</summary>
    public string MaxErrors { get; set; } = "10%";

    public bool IsolationEnabled => Isolation.Enabled || !string.IsNullOrWhiteSpace(IsolationDocument);

    /// <summary>The isolation runbook in use: the configured one, else AWS's containment runbook.</summary>
    public string EffectiveIsolationDocument =>
        string.IsNullOrWhiteSpace(IsolationDocument) ? IsolationOptions.AwsContainmentRunbook : IsolationDocument;

    /// <summary>The runbook Release runs: the configured one, else the isolation runbook when it is AWS's (its Release mode).</summary>
    public string? EffectiveReleaseDocument =>
        !string.IsNullOrWhiteSpace(Isolation.ReleaseDocument) ? Isolation.ReleaseDocument
        : EffectiveIsolationDocument == IsolationOptions.AwsContainmentRunbook ? IsolationOptions.AwsContainmentRunbook
        : null;

    public bool ReleaseEnabled => IsolationEnabled && EffectiveReleaseDocument is not null;

    /// <summary>Parameters of an isolation (<paramref name="release"/> false) or release run, without the instance and role.</summary>
    public IReadOnlyDictionary<string, string> IsolationParameters(bool release)
    {
        var configured = release ? Isolation.ReleaseParameters : Isolation.Parameters;
        var aws = (release ? EffectiveReleaseDocument : EffectiveIsolationDocument) == IsolationOptions.AwsContainmentRunbook;
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (aws)
        {
            // AWSSupport-ContainEC2Instance picks its mode from Action: Contain backs up and swaps the
            // security groups, Release restores them from that backup.
            parameters["Action"] = release ? "Release" : "Contain";
        }
        foreach (var (key, value) in configured)
        {
            parameters[key] = value;
        }
        return parameters;
    }

    public TimeSpan ApprovalTtl => TimeSpan.FromMinutes(ApprovalTtlMinutes);

    public TimeSpan StallTimeout => TimeSpan.FromMinutes(StallTimeoutMinutes);
}

internal sealed partial class RemediationOptionsValidator : IValidateOptions<RemediationOptions>
{
    public ValidateOptionsResult Validate(string? name, RemediationOptions options)
    {
        var failures = new List<string>();
        if (!IsDocumentName(options.PatchDocument))
        {
            failures.Add($"Remediation:PatchDocument '{options.PatchDocument}' is not an SSM document name or ARN.");
        }

        if (!IsRebootOption(options.RebootOption))
        {
            failures.Add($"Remediation:RebootOption must be {RemediationOptions.RebootIfNeeded} or {RemediationOptions.NoReboot}.");
        }

        if (options.IsolationEnabled && !IsDocumentName(options.EffectiveIsolationDocument))
        {
            failures.Add($"Remediation:IsolationDocument '{options.IsolationDocument}' is not an SSM document name or ARN.");
        }

        if (options.IsolationEnabled)
        {
            var iso = options.Isolation;
            if (!string.IsNullOrWhiteSpace(iso.ReleaseDocument) && !IsDocumentName(iso.ReleaseDocument))
            {
                failures.Add($"Remediation:Isolation:ReleaseDocument '{iso.ReleaseDocument}' is not an SSM document name or ARN.");
            }
            if (!string.IsNullOrWhiteSpace(iso.AutomationAssumeRoleArn) && !RoleArnPattern().IsMatch(iso.AutomationAssumeRoleArn))
            {
                failures.Add($"Remediation:Isolation:AutomationAssumeRoleArn '{iso.AutomationAssumeRoleArn}' is not an IAM role ARN.");
            }
            if (!string.IsNullOrWhiteSpace(iso.AutomationAssumeRoleName) && !RoleNamePattern().IsMatch(iso.AutomationAssumeRoleName))
            {
                failures.Add($"Remediation:Isolation:AutomationAssumeRoleName '{iso.AutomationAssumeRoleName}' is not an IAM role name.");
            }
            if (string.IsNullOrWhiteSpace(iso.AutomationAssumeRoleArn) && string.IsNullOrWhiteSpace(iso.AutomationAssumeRoleName))
            {
                failures.Add("Isolation needs Remediation:Isolation:AutomationAssumeRoleArn or :AutomationAssumeRoleName: the containment runbook changes security groups, which the bot's own role must not be able to do.");
            }
            if (!ParameterKeyPattern().IsMatch(iso.InstanceIdParameter ?? ""))
            {
                failures.Add($"Remediation:Isolation:InstanceIdParameter '{iso.InstanceIdParameter}' is not an Automation parameter name.");
            }
            foreach (var key in iso.Parameters.Keys.Concat(iso.ReleaseParameters.Keys))
            {
                if (!ParameterKeyPattern().IsMatch(key) || key == iso.InstanceIdParameter || key == IsolationOptions.AssumeRoleParameter)
                {
                    failures.Add($"Remediation:Isolation parameter '{key}' is not allowed: the bot sets {iso.InstanceIdParameter} and {IsolationOptions.AssumeRoleParameter} itself, and names are 1-50 characters.");
                }
            }
        }

        if (options.ApprovalTtlMinutes is < 1 or > 7 * 24 * 60)
        {
            failures.Add("Remediation:ApprovalTtlMinutes must be between 1 and 10080 (one week).");
        }

        if (options.StallTimeoutMinutes is < 5 or > 7 * 24 * 60)
        {
            failures.Add("Remediation:StallTimeoutMinutes must be between 5 and 10080 (one week).");
        }

        if (!IsMaxConcurrency(options.MaxConcurrency))
        {
            failures.Add($"Remediation:MaxConcurrency '{options.MaxConcurrency}' must be a positive number or a percentage such as 10%.");
        }

        if (!IsMaxErrors(options.MaxErrors))
        {
            failures.Add($"Remediation:MaxErrors '{options.MaxErrors}' must be a number or a percentage such as 10%.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // Patterns are SSM's own (SendCommand's DocumentARN, MaxConcurrency, MaxErrors shapes), so bad
    // values fail at start-up instead of when someone presses "patch".
    internal static bool IsDocumentName(string? value) => value is not null && DocumentPattern().IsMatch(value);

    internal static bool IsRebootOption(string? value) =>
        value is RemediationOptions.RebootIfNeeded or RemediationOptions.NoReboot;

    internal static bool IsMaxConcurrency(string? value) => value is not null && MaxConcurrencyPattern().IsMatch(value);

    internal static bool IsMaxErrors(string? value) => value is not null && MaxErrorsPattern().IsMatch(value);

    [GeneratedRegex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]{1,512}$")]
    private static partial Regex RoleArnPattern();

    [GeneratedRegex("^[\\w+=,.@-]{1,64}$")]
    private static partial Regex RoleNamePattern();

    // AutomationParameterKey: 1-50 characters.
    [GeneratedRegex("^[A-Za-z0-9_.-]{1,50}$")]
    private static partial Regex ParameterKeyPattern();

    [GeneratedRegex("^[a-zA-Z0-9_\\-.:/]{3,128}$")]
    private static partial Regex DocumentPattern();

    [GeneratedRegex("^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$")]
    private static partial Regex MaxConcurrencyPattern();

    [GeneratedRegex("^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$")]
    private static partial Regex MaxErrorsPattern();
}

/// <summary>Section <c>Remediation:Isolation</c>.</summary>
internal sealed class IsolationOptions
{
    /// <summary>
    /// AWS-owned runbook that contains an instance by swapping its security groups for a containment
    /// group, after backing the originals up to S3; its Release mode restores them
    /// (docs.aws.amazon.com/systems-manager-automation-runbooks/latest/userguide/automation-awssupport-containec2instance.html).
    /// </summary>
    public const string AwsContainmentRunbook = "AWSSupport-ContainEC2Instance";

    public const string AssumeRoleParameter = "AutomationAssumeRole";

    /// <summary>Turns isolation on with <see cref="AwsContainmentRunbook"/> when no document is named.</summary>
    public bool Enabled { get; set; }

    /// <summary>Role the automation runs as, the same in every account (takes precedence over the name).</summary>
    public string AutomationAssumeRoleArn { get; set; } = "";

    /// <summary>Role name in each instance's own account: arn:aws:iam::ACCOUNT:role/NAME.</summary>
    public string AutomationAssumeRoleName { get; set; } = "";

    /// <summary>The runbook parameter that takes the instance id.</summary>
    public string InstanceIdParameter { get; set; } = "InstanceId";

    /// <summary>Extra isolation parameters, such as the containment runbook's backup bucket.</summary>
    public Dictionary<string, string> Parameters { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Runbook Release runs. Empty: the isolation runbook when it is AWS's, else Release is not offered.</summary>
    public string ReleaseDocument { get; set; } = "";

    public Dictionary<string, string> ReleaseParameters { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The AutomationAssumeRole for an instance in <paramref name="accountId"/> (null: the bot's own account).</summary>
    public string? RoleFor(string? accountId, string region)
    {
        if (!string.IsNullOrWhiteSpace(AutomationAssumeRoleArn))
        {
            return AutomationAssumeRoleArn;
        }
        if (string.IsNullOrWhiteSpace(AutomationAssumeRoleName) || accountId is null)
        {
            return null;
        }
        var partition = region.StartsWith("cn-", StringComparison.Ordinal) ? "aws-cn"
            : region.StartsWith("us-gov-", StringComparison.Ordinal) ? "aws-us-gov" : "aws";
        return $"arn:{partition}:iam::{accountId}:role/{AutomationAssumeRoleName}";
    }
}
