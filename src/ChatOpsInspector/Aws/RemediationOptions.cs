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

    /// <summary>Automation document run by "isolate", taking an <c>InstanceId</c> parameter. Empty: isolation is off.</summary>
    public string IsolationDocument { get; set; } = "";

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

    public bool IsolationEnabled => !string.IsNullOrWhiteSpace(IsolationDocument);

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

        if (options.IsolationEnabled && !IsDocumentName(options.IsolationDocument))
        {
            failures.Add($"Remediation:IsolationDocument '{options.IsolationDocument}' is not an SSM document name or ARN.");
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

    [GeneratedRegex("^[a-zA-Z0-9_\\-.:/]{3,128}$")]
    private static partial Regex DocumentPattern();

    [GeneratedRegex("^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$")]
    private static partial Regex MaxConcurrencyPattern();

    [GeneratedRegex("^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$")]
    private static partial Regex MaxErrorsPattern();
}
