using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Aws;

/// <summary>
/// Section <c>Aws</c>: where the bot talks to AWS. Credentials are deliberately absent: they come
/// only from the AWS SDK default chain (environment, profile, web identity, container, IMDS).
/// </summary>
internal sealed class AwsOptions
{
    public const string SectionName = "Aws";

    /// <summary>The bot's home region. Empty: the SDK's own resolution (AWS_REGION, AWS_DEFAULT_REGION, the profile).</summary>
    public string Region { get; set; } = "";

    /// <summary>
    /// Role assumed in a finding's member account (delegated-administrator setups). Empty: every call
    /// uses the bot's own credentials, which suits a single-account installation.
    /// </summary>
    public string MemberRoleName { get; set; } = "";

    /// <summary>External id the member role's trust policy requires. Empty: none is sent.</summary>
    public string MemberRoleExternalId { get; set; } = "";

    public AwsServiceEndpointOptions Inspector2 { get; set; } = new();

    public AwsServiceEndpointOptions Ssm { get; set; } = new();

    public AwsServiceEndpointOptions Sts { get; set; } = new();

    public bool HasMemberRole => !string.IsNullOrWhiteSpace(MemberRoleName);

    /// <summary>The Inspector2 endpoint for a region: <c>Aws:Inspector2:ServiceUrl</c>, or the regional one.</summary>
    public Uri Inspector2EndpointFor(string region) => Inspector2.ServiceUri ?? RegionalEndpoint("inspector2", region);

    /// <summary>
    /// <c>Aws:Region</c>, else whatever the SDK resolves from the environment or profile. There is no
    /// built-in default: signing for a region nobody chose sends every call to the wrong place.
    /// </summary>
    public string ResolveRegion()
    {
        if (!string.IsNullOrWhiteSpace(Region))
        {
            return Region;
        }

        string? resolved;
        try
        {
            resolved = Amazon.Runtime.FallbackRegionFactory.GetRegionEndpoint()?.SystemName;
        }
        catch (Exception ex) when (ex is Amazon.Runtime.AmazonClientException or InvalidOperationException or IOException)
        {
            resolved = null;
        }

        return string.IsNullOrWhiteSpace(resolved)
            ? throw new AwsRegionUnavailableException()
            : resolved;
    }

    internal static Uri RegionalEndpoint(string service, string region)
    {
        var suffix = region.StartsWith("cn-", StringComparison.Ordinal) ? "amazonaws.com.cn" : "amazonaws.com";
        return new Uri($"https://{service}.{region}.{suffix}/");
    }
}

internal sealed class AwsServiceEndpointOptions
{
    /// <summary>Empty: the real regional endpoint. Set it for proxies, VPC endpoints and fake servers in tests.</summary>
    public string? ServiceUrl { get; set; }

    internal Uri? ServiceUri =>
        string.IsNullOrWhiteSpace(ServiceUrl) ? null : new Uri(ServiceUrl.EndsWith('/') ? ServiceUrl : ServiceUrl + "/");
}

internal sealed partial class AwsOptionsValidator : IValidateOptions<AwsOptions>
{
    public ValidateOptionsResult Validate(string? name, AwsOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.Region) && !IsRegion(options.Region))
        {
            failures.Add($"Aws:Region '{options.Region}' is not an AWS region name such as eu-west-1.");
        }

        // IAM role names: [\w+=,.@-]{1,64}; external ids: botocore sts externalIdType [\w+=,.@:\/-]{2,1224}.
        if (options.HasMemberRole && !RoleNamePattern().IsMatch(options.MemberRoleName))
        {
            failures.Add($"Aws:MemberRoleName '{options.MemberRoleName}' is not an IAM role name.");
        }

        if (!string.IsNullOrEmpty(options.MemberRoleExternalId) && !ExternalIdPattern().IsMatch(options.MemberRoleExternalId))
        {
            failures.Add("Aws:MemberRoleExternalId must be 2 to 1224 characters of letters, digits and +=,.@:/-.");
        }

        CheckUrl(failures, "Aws:Inspector2:ServiceUrl", options.Inspector2?.ServiceUrl);
        CheckUrl(failures, "Aws:Ssm:ServiceUrl", options.Ssm?.ServiceUrl);
        CheckUrl(failures, "Aws:Sts:ServiceUrl", options.Sts?.ServiceUrl);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckUrl(List<string> failures, string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"{key} must be an absolute http(s) URL or empty.");
        }
        else if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            failures.Add($"{key} must not carry a query string or user info.");
        }
    }

    public static bool IsRegion(string? value) => value is not null && RegionPattern().IsMatch(value);

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex(@"^[\w+=,.@-]{1,64}$")]
    private static partial Regex RoleNamePattern();

    [GeneratedRegex(@"^[\w+=,.@:/-]{2,1224}$")]
    private static partial Regex ExternalIdPattern();
}
