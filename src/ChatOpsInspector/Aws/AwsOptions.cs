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

    public string Region { get; set; } = "us-east-1";

    public AwsServiceEndpointOptions Inspector2 { get; set; } = new();

    public AwsServiceEndpointOptions Ssm { get; set; } = new();

    /// <summary>The Inspector2 endpoint: <c>Aws:Inspector2:ServiceUrl</c>, or the regional one.</summary>
    public Uri Inspector2Endpoint => Inspector2.ServiceUri ?? RegionalEndpoint("inspector2", Region);

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
        if (string.IsNullOrWhiteSpace(options.Region) || !RegionPattern().IsMatch(options.Region))
        {
            failures.Add($"Aws:Region '{options.Region}' is not an AWS region name such as us-east-1.");
        }

        CheckUrl(failures, "Aws:Inspector2:ServiceUrl", options.Inspector2?.ServiceUrl);
        CheckUrl(failures, "Aws:Ssm:ServiceUrl", options.Ssm?.ServiceUrl);
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

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex RegionPattern();
}
